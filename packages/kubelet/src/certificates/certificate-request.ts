import { createHash, createPublicKey } from 'node:crypto';
import { ecdsaP256, loadX509 } from '@nodeagent/primitives/certificates';
import type { x509 as X509 } from '@nodeagent/primitives/x509';
import { cryptoKeyPair } from './private-key';

/** certificates.k8s.io/v1 signer of the kubelet's client certificate (the one it talks to the API server with). */
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
/** certificates.k8s.io/v1 signer of the kubelet's serving certificate (its HTTPS server on port 10250). */
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/** What a certificate should say about the node: upstream's x509.CertificateRequest template. */
export interface CertificateTemplate {
  commonName: string;
  organization: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** The subject upstream's kubelet asks for: CN system:node:<name>, O system:nodes. */
export function nodeSubject(nodeName: string): CertificateTemplate {
  return { commonName: `system:node:${nodeName}`, organization: ['system:nodes'] };
}

/**
 * Usages of a kubelet client certificate (DefaultKubeletClientGetUsages): "key encipherment" only
 * for RSA keys, and the kubelet's keys are ECDSA.
 */
export const KUBELET_CLIENT_USAGES = ['digital signature', 'client auth'] as const;
/** Usages of a kubelet serving certificate (DefaultKubeletServingGetUsages), ECDSA keys. */
export const KUBELET_SERVING_USAGES = ['digital signature', 'server auth'] as const;

/**
 * A PEM "CERTIFICATE REQUEST" for `template`, signed with the key in `keyPem` — certutil.MakeCSR:
 * the subject in Go's pkix order (O before CN), SANs as a requested extension.
 */
export async function makeCertificateRequestPem(
  keyPem: string,
  template: CertificateTemplate,
): Promise<string> {
  const keys = await cryptoKeyPair(keyPem);
  const x509 = await loadX509();
  const names: X509.JsonGeneralName[] = [
    ...(template.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(template.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [...template.organization.map((o) => ({ O: [o] })), { CN: [template.commonName] }],
    keys,
    signingAlgorithm: ecdsaP256,
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return csr.toString('pem');
}

/**
 * The CSR name upstream's bootstrap uses (digestedName): "node-csr-" and the unpadded base64url
 * SHA-512/256 of the public key, subject and usages, each base64url-encoded and '|'-terminated, so
 * a restarted kubelet with the same key finds (and reuses) its own CSR.
 */
export function digestedCsrName(
  keyPem: string,
  template: CertificateTemplate,
  usages: readonly string[],
): string {
  const hash = createHash('sha512-256');
  const write = (data: Buffer) => {
    hash.update(data.toString('base64url'));
    hash.update('|');
  };
  write(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }));
  write(Buffer.from(template.commonName));
  for (const organization of template.organization) write(Buffer.from(organization));
  for (const usage of usages) write(Buffer.from(usage));
  return `node-csr-${hash.digest('base64url')}`;
}
