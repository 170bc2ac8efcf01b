import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ecdsaP256 } from '@nodeagent/primitives/certificates';
import { CertificateError } from './certificate-error';

/**
 * A new ECDSA P-256 private key as an "EC PRIVATE KEY" (SEC 1) PEM block, the key and encoding
 * upstream's kubelet uses for client and serving certificates.
 */
export function generatePrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'sec1', format: 'pem' }) as string;
}

/** The key in `pem` as a WebCrypto key pair (for signing CSRs), or a CertificateError. */
export async function cryptoKeyPair(pem: string): Promise<webcrypto.CryptoKeyPair> {
  let pkcs8: Buffer;
  let spki: Buffer;
  try {
    const key = createPrivateKey(pem);
    pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  } catch (error) {
    throw new CertificateError('INVALID_PRIVATE_KEY', 'privateKey', '<pem>', (error as Error).message);
  }
  const subtle = webcrypto.subtle;
  return {
    privateKey: (await subtle.importKey('pkcs8', pkcs8, ecdsaP256, true, ['sign'])) as webcrypto.CryptoKey,
    publicKey: (await subtle.importKey('spki', spki, ecdsaP256, true, ['verify'])) as webcrypto.CryptoKey,
  };
}

/** Whether `pem` holds a private key Node can read (upstream's verifyKeyData). */
export function isValidPrivateKeyPem(pem: string | undefined): pem is string {
  if (!pem) return false;
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

/**
 * The private key in `path`, or a new one written there (0600) when the file is missing —
 * upstream's keyutil.LoadOrGenerateKeyFile, so a failed CSR reuses the key on the next start.
 */
export async function loadOrGenerateKeyFile(path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    if (!isValidPrivateKeyPem(existing))
      throw new CertificateError(
        'INVALID_PRIVATE_KEY',
        'keyFile',
        path,
        'data does not contain a valid private key',
      );
    return existing;
  }
  const pem = generatePrivateKeyPem();
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFile(path, pem, { mode: 0o600 });
  return pem;
}
