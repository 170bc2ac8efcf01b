import type { Server as HttpsServer } from 'node:https';
import type { CertificateManager } from './certificate-manager';
import type { CertificatePair } from './certificate-pair';

/**
 * Points an HTTPS server at a certificate manager's current pair: each rotation swaps the
 * server's secure context (new connections get the new certificate, open ones keep theirs), and
 * until the first certificate is issued handshakes fail, logged with upstream's message.
 */
export function serveCurrentCertificate(
  server: HttpsServer,
  manager: CertificateManager,
  onNoCertificate?: (error: Error) => void,
): (pair: CertificatePair) => void {
  server.on('tlsClientError', (error) => {
    if (!manager.current())
      onNoCertificate?.(new Error(`no serving certificate available for the kubelet: ${error.message}`));
  });
  const apply = (pair: CertificatePair) => server.setSecureContext({ cert: pair.certPem, key: pair.keyPem });
  const current = manager.current();
  if (current) apply(current);
  return apply;
}
