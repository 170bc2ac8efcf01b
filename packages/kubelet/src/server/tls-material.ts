import { selfSignedCertificate as makeSelfSigned, type PemKeyPair } from '@nodeagent/primitives/x509';

/**
 * A self-signed ECDSA P-256 serving certificate for the kubelet server when neither
 * --tls-cert-file nor serverTLSBootstrap gives one (upstream generates one at start too): CN
 * `<hostname>@<unix time>`, the hostname and `ips` as SANs, valid one year.
 */
export function selfSignedCertificate(hostname: string, ips: string[]): Promise<PemKeyPair> {
  return makeSelfSigned({
    commonName: `${hostname}@${Math.floor(Date.now() / 1000)}`,
    dnsNames: [hostname],
    ips,
    validForMs: 365 * 24 * 3600 * 1000,
  });
}
