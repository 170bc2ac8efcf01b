import type { V1Node } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import type { ResolvedNodeStatusConfig } from './node-status-config';

/** The well-known label a Node carries its hostname in. */
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
/** The well-known label a Node carries its OS (GOOS) in. */
export const LABEL_OS = 'kubernetes.io/os';
/** The well-known label a Node carries its architecture (GOARCH) in. */
export const LABEL_ARCH = 'kubernetes.io/arch';
/** The deprecated beta OS label the kubelet still sets. */
export const LABEL_BETA_OS = 'beta.kubernetes.io/os';
/** The deprecated beta architecture label the kubelet still sets. */
export const LABEL_BETA_ARCH = 'beta.kubernetes.io/arch';
/** The kubelet sets this so the attach/detach controller handles volumes. */
export const ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH =
  'volumes.kubernetes.io/controller-managed-attach-detach';

/** Labels the kubelet owns and reconciles on an existing Node (upstream updateDefaultLabels). */
export function defaultLabels(
  config: Pick<ResolvedNodeStatusConfig, 'hostname'>,
  os: string,
  arch: string,
): Record<string, string> {
  return {
    [LABEL_HOSTNAME]: config.hostname,
    [LABEL_OS]: os,
    [LABEL_ARCH]: arch,
    [LABEL_BETA_OS]: os,
    [LABEL_BETA_ARCH]: arch,
  };
}

/**
 * The OS and architecture labels `node` lacks or has wrong, or undefined when both are right:
 * upstream's status update sets them again (a label someone removed comes back within one
 * update period), through the same patch as the status.
 */
export function requiredLabelsToSet(
  node: Pick<Wire<V1Node>, 'metadata'>,
  os: string,
  arch: string,
): Record<string, string> | undefined {
  const labels = node.metadata?.labels ?? {};
  if (labels[LABEL_OS] === os && labels[LABEL_ARCH] === arch) return undefined;
  return { [LABEL_OS]: os, [LABEL_ARCH]: arch };
}

/** The Node object to create at registration (status is sent right after, by patch). */
export function initialNode(config: ResolvedNodeStatusConfig, os: string, arch: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: config.nodeName,
      labels: { ...config.nodeLabels, ...defaultLabels(config, os, arch) },
      annotations: { [ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH]: 'true' },
    },
    spec: {
      providerID: config.providerID || undefined,
      taints: config.registerWithTaints.length > 0 ? config.registerWithTaints : undefined,
      unschedulable: config.registerSchedulable ? undefined : true,
    },
  };
}

/**
 * What to change on a Node that already exists (AlreadyExists at registration): the default
 * labels and the attach/detach annotation, as upstream's reconcile does. Undefined when it
 * already matches. Taints and unschedulable are left alone once registered, like upstream.
 */
export function reconcileExistingNode(
  existing: V1Node | Wire<V1Node>,
  config: ResolvedNodeStatusConfig,
  os: string,
  arch: string,
): { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } } | undefined {
  const have = existing.metadata?.labels ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(defaultLabels(config, os, arch))) if (have[k] !== v) labels[k] = v;
  const annotations: Record<string, string> = {};
  if (existing.metadata?.annotations?.[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH] !== 'true') {
    annotations[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH] = 'true';
  }
  const metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return Object.keys(metadata).length > 0 ? { metadata } : undefined;
}
