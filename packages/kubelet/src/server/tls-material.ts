import { selfSignedCertificate as makeSelfSigned, type PemKeyPair } from '@nodeagent/primitives/certificates';

/**
 * A self-signed ECDSA P-256 serving certificate made in memory, for a kubelet server that keeps
 * no cert directory (a library caller; serverTLSBootstrap without --kubeconfig): CN
 * `<hostname>@<unix time>`, the hostname and `ips` as SANs, valid one year. Upstream's pair
 * written under --cert-dir and reused is self-signed-serving-files.ts.
 */
export function selfSignedCertificate(hostname: string, ips: string[]): Promise<PemKeyPair> {
  return makeSelfSigned({
    commonName: `${hostname}@${Math.floor(Date.now() / 1000)}`,
    dnsNames: [hostname],
    ips,
    validForMs: 365 * 24 * 3600 * 1000,
  });
}
