import { type ApproverOptions, approvalFor } from './csr-approver';
import { requestFacts, signCertificate, signingDurationMs, validatorFor } from './csr-signer';
import { createSigningCA, type SigningCA } from './csr-signing-ca';
import { CSR_KIND, csrSpec, csrStatus, isApproved, isDenied, isFailed } from './csr-strategy';
import { parseCertificateRequest } from './csr-x509';
import type { KubeObject } from './kube-object';
import type { ObjectStore } from './object-store';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType, resourceKey } from './resource-types';

/** How the CSR approver and signer decide and sign. */
export interface CertificateControllerOptions extends ApproverOptions {
  /** Run the approver (csrapproving). Default true. */
  approver?: boolean;
  /** Run the signer (csrsigning) for the kubernetes.io built-in signers. Default true. */
  signer?: boolean;
  /** --cluster-signing-duration in seconds. Default 8760 h (one year), as upstream. */
  signingDurationSeconds?: number;
  /**
   * How far NotBefore goes back. Default 300 s (upstream's fixed 5 min); tests of rotation with
   * lifetimes of seconds set 0, or the rotation deadline falls before the certificate is issued.
   */
  backdateSeconds?: number;
  /** The CA to issue from; a new one by default. */
  ca?: SigningCA;
}

/** The running CSR approver and signer. */
export interface CertificateControllers {
  /** The CA certificates are issued from (PEM): what verifies them. */
  readonly ca: SigningCA;
  /** Resolves when every CSR change seen so far has been handled. */
  idle(): Promise<void>;
  /** Stops approving and signing. */
  stop(): void;
}

export const CSR_TYPE = findResourceType(
  'certificates.k8s.io',
  'v1',
  'certificatesigningrequests',
) as ResourceType;

/**
 * kube-controller-manager's certificate controllers over the in-process store: the approver
 * (kubelet client CSRs from bootstrap tokens and from the node itself; kubelet-serving only when
 * asked) and the signer for kubernetes.io/kube-apiserver-client-kubelet, /kube-apiserver-client and
 * /kubelet-serving, honouring spec.expirationSeconds. A CSR the signer's rules reject gets a Failed
 * condition (SignerValidationFailure).
 */
export async function startCertificateControllers(
  registry: ResourceRegistry,
  store: ObjectStore,
  options: CertificateControllerOptions & { now: () => Date },
): Promise<CertificateControllers> {
  const ca = options.ca ?? (await createSigningCA(options.now()));
  const key = resourceKey(CSR_TYPE);
  const ttlMs = (options.signingDurationSeconds ?? 8760 * 3600) * 1000;
  const backdateMs = (options.backdateSeconds ?? 300) * 1000;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  async function handle(name: string): Promise<void> {
    const csr = registry.find(CSR_TYPE, undefined, name);
    if (!csr || stopped) return;
    const spec = csrSpec(csr);
    let facts: ReturnType<typeof requestFacts>;
    let requestPem: string;
    try {
      requestPem = Buffer.from(spec.request ?? '', 'base64').toString();
      facts = requestFacts(parseCertificateRequest(requestPem));
    } catch {
      return;
    }
    if (options.approver !== false && !isApproved(csr) && !isDenied(csr)) {
      const condition = approvalFor(csr, facts, options);
      if (condition) {
        const status = csrStatus(csr);
        registry.update(
          CSR_TYPE,
          undefined,
          name,
          { ...csr, status: { ...status, conditions: [...(status.conditions ?? []), condition] } },
          'approval',
        );
      }
      return; // the approval's MODIFIED event brings it back for signing
    }
    if (options.signer === false || !isApproved(csr) || isFailed(csr) || csrStatus(csr).certificate) return;
    const validate = validatorFor(spec.signerName);
    if (!validate) return;
    const problem = validate(facts, spec.usages ?? []);
    const status = csrStatus(csr);
    if (problem) {
      registry.update(
        CSR_TYPE,
        undefined,
        name,
        {
          ...csr,
          status: {
            ...status,
            conditions: [
              ...(status.conditions ?? []),
              { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem },
            ],
          },
        },
        'status',
      );
      return;
    }
    const certPem = await signCertificate(ca, requestPem, spec.usages ?? [], {
      ttlMs: signingDurationMs(ttlMs, spec.expirationSeconds),
      backdateMs,
      shortMs: 8 * 3600 * 1000,
      now: options.now(),
    });
    const latest = registry.find(CSR_TYPE, undefined, name);
    if (!latest || stopped || csrStatus(latest).certificate) return;
    registry.update(
      CSR_TYPE,
      undefined,
      name,
      { ...latest, status: { ...csrStatus(latest), certificate: Buffer.from(certPem).toString('base64') } },
      'status',
    );
  }

  const enqueue = (object: KubeObject) => {
    const name = String(object.metadata.name ?? '');
    chain = chain.then(() => handle(name)).catch(() => undefined);
  };
  const unsubscribe = store.subscribe((event) => {
    if (event.resource !== key || event.type === 'DELETED' || event.object.kind !== CSR_KIND) return;
    // After the write that announced it has returned to its caller.
    setImmediate(() => enqueue(event.object));
  });
  return {
    ca,
    idle: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await chain;
    },
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}
