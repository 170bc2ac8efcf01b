import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_SERVING_SIGNER,
  type RequestFacts,
  validateKubeletClient,
  validateKubeletServing,
} from './csr-signer';
import { type CsrCondition, csrSpec } from './csr-strategy';
import type { KubeObject } from './kube-object';

/**
 * Which requesters may have node client certificates approved, standing in for the RBAC that
 * kubeadm sets up and the approver's SubjectAccessReviews: `certificatesigningrequests/nodeclient`
 * for bootstrap-token users (system:bootstrappers…) and `…/selfnodeclient` for nodes renewing their
 * own certificate (system:nodes); system:masters may do both.
 */
function mayCreate(groups: readonly string[], subresource: 'nodeclient' | 'selfnodeclient'): boolean {
  if (groups.includes('system:masters')) return true;
  if (subresource === 'selfnodeclient') return groups.includes('system:nodes');
  return groups.some((g) => g === 'system:bootstrappers' || g.startsWith('system:bootstrappers:'));
}

export interface ApproverOptions {
  /**
   * Also approve kubernetes.io/kubelet-serving CSRs a node sends for itself. kube-controller-manager
   * never does (operators or a third-party approver must); default false, as upstream.
   */
  approveKubeletServing?: boolean;
}

/**
 * kube-controller-manager's csrapproving decision for one pending CSR: the Approved condition to
 * add (reason AutoApproved, upstream's messages), or undefined to leave it for someone else.
 */
export function approvalFor(
  csr: KubeObject,
  facts: RequestFacts,
  options: ApproverOptions,
): CsrCondition | undefined {
  const spec = csrSpec(csr);
  const usages = spec.usages ?? [];
  const groups = spec.groups ?? [];
  const approved = (message: string): CsrCondition => ({
    type: 'Approved',
    status: 'True',
    reason: 'AutoApproved',
    message,
  });
  if (spec.signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER && !validateKubeletClient(facts, usages)) {
    if (spec.username === facts.commonName && mayCreate(groups, 'selfnodeclient'))
      return approved('Auto approving self kubelet client certificate after SubjectAccessReview.');
    if (mayCreate(groups, 'nodeclient'))
      return approved('Auto approving kubelet client certificate after SubjectAccessReview.');
    return undefined;
  }
  if (
    options.approveKubeletServing &&
    spec.signerName === KUBELET_SERVING_SIGNER &&
    !validateKubeletServing(facts, usages) &&
    spec.username === facts.commonName &&
    groups.includes('system:nodes')
  )
    return approved(
      'Auto approving kubelet serving certificate: the test API server was started with approveKubeletServing.',
    );
  return undefined;
}
