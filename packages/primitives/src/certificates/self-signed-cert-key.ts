import { createPrivateKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { loadX509 } from './load-x509';

/**
 * client-go's certutil.GenerateSelfSignedCertKey(host, nil, nil) (util/cert/cert.go), which
 * upstream's kubelet uses for <cert-dir>/kubelet.crt and kubelet.key: a CA of its own signs the
 * serving certificate, so a client can pin that CA.
 */
export interface SelfSignedCertKey {
  /** The serving certificate's PEM followed by its CA's PEM (upstream's "cert, followed by ca"). */
  cert: string;
  /** The serving key as PKCS#1 PEM ("RSA PRIVATE KEY", upstream's x509.MarshalPKCS1PrivateKey). */
  key: string;
}

const rsa2048 = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;

/** Upstream's validFrom: an hour before now, "to avoid flakes due to clock skew". */
const CLOCK_SKEW_MS = 3600 * 1000;
/** Upstream's maxAge: "one year self-signed certs" (365 days from validFrom). */
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

function generateRsaKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(rsa2048, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
}

/**
 * Upstream's two certificates for `host` (IP SAN if it parses as an IP, else DNS SAN; nothing
 * else), RSA 2048 keys, SHA-256 signatures. `now` is the caller's clock: it gives the CNs'
 * `@<unix seconds>` and the validity. Serial numbers 1 (CA) and 2 (serving) are upstream's too.
 * The subject/authority key identifiers are what Go's x509.CreateCertificate adds by itself.
 * Checked against kubernetes/kubernetes cert.go as stored at commit 04791b49 (a v1.36 tag was not
 * available to read); the one-hour backdating came in with its fixtures support, older copies
 * start at now.
 */
export async function generateSelfSignedCertKey(host: string, now: Date): Promise<SelfSignedCertKey> {
  const x509 = await loadX509();
  const unixSeconds = Math.floor(now.getTime() / 1000);
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(notBefore.getTime() + ONE_YEAR_MS);
  const caKeys = await generateRsaKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: [{ CN: [`${host}-ca@${unixSeconds}`] }],
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: rsa2048,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const servingKeys = await generateRsaKeys();
  const serving = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: [{ CN: [`${host}@${unixSeconds}`] }],
    issuer: ca.subjectName,
    notBefore,
    notAfter,
    publicKey: servingKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: rsa2048,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      new x509.SubjectAlternativeNameExtension([
        // Upstream parses with netutils.ParseIPSloppy, which also takes IPv4 with leading zeros.
        isIP(host) !== 0 ? { type: 'ip', value: host } : { type: 'dns', value: host },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', servingKeys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return {
    cert: `${serving.toString('pem')}\n${ca.toString('pem')}\n`,
    key: key.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}
