import { constants } from 'node:fs';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { goPathError } from '@nodeagent/primitives';
import { generateSelfSignedCertKey } from '@nodeagent/primitives/certificates';
import { KubeletError } from '../errors';

/**
 * The self-signed serving pair under --cert-dir could not be read as a pair or written: upstream's
 * InitializeTLS returns the error and the kubelet exits 1. One line naming the flag, then
 * upstream's reason, which carries the path (`--cert-dir: open /var/lib/kubelet/pki/kubelet.crt:
 * permission denied`).
 */
export class SelfSignedServingFilesError extends KubeletError {
  constructor(certDirectory: string, reason: string) {
    super('SELF_SIGNED_SERVING_FILES', '--cert-dir', certDirectory, reason, `--cert-dir: ${reason}`);
  }
}

/** Where the pair is, and the files' bytes as the server is to use them. */
export interface SelfSignedServingFiles {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** Whether this call wrote them (false: they were there and are used as they are). */
  generated: boolean;
}

/** Where loadOrWriteSelfSignedServingFiles looks for the pair, and what it names a new one for. */
export interface SelfSignedServingFilesOptions {
  /** --cert-dir (upstream's CertDirectory, /var/lib/kubelet/pki by default). */
  certDirectory: string;
  /** The node's hostname (hostname-override if set), which the certificate names. */
  host: string;
  /** The clock for the certificates' CNs and validity. */
  now?: () => Date;
  /**
   * Where upstream's V(4) line "Using self-signed cert" goes (TLSCertFile, TLSPrivateKeyFile):
   * nothing at the default verbosity, so a caller passes its most verbose level (pino's trace).
   */
  logV4?: (fields: object, msg: string) => void;
}

/** certutil's canReadFile: the file can be opened for reading. */
async function canRead(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Upstream's InitializeTLS when neither tlsCertFile nor tlsPrivateKeyFile is set and
 * serverTLSBootstrap is off: <cert-dir>/kubelet.crt and kubelet.key, used as they are when both
 * can be read (however old: upstream never renews them), else generated
 * (certutil.GenerateSelfSignedCertKey) and written: the directory made 0755, the certificate 0644
 * (certutil.WriteCert), the key 0600 (keyutil.WriteKey). Exactly one of the two readable is
 * certutil.CanReadCertAndKey's error: the pair must be supplied together.
 */
export async function loadOrWriteSelfSignedServingFiles(
  options: SelfSignedServingFilesOptions,
): Promise<SelfSignedServingFiles> {
  const { certDirectory } = options;
  const certFile = join(certDirectory, 'kubelet.crt');
  const keyFile = join(certDirectory, 'kubelet.key');
  const [certReadable, keyReadable] = await Promise.all([canRead(certFile), canRead(keyFile)]);
  if (certReadable !== keyReadable) {
    const missing = certReadable ? keyFile : certFile;
    throw new SelfSignedServingFilesError(
      certDirectory,
      `error reading ${missing}, certificate and key must be supplied as a pair`,
    );
  }
  try {
    if (certReadable)
      return {
        certFile,
        keyFile,
        cert: await readFile(certFile),
        key: await readFile(keyFile),
        generated: false,
      };
    const pair = await generateSelfSignedCertKey(options.host, (options.now ?? (() => new Date()))());
    await mkdir(certDirectory, { recursive: true, mode: 0o755 });
    await writeFile(certFile, pair.cert, { mode: 0o644 });
    await writeFile(keyFile, pair.key, { mode: 0o600 });
    options.logV4?.({ TLSCertFile: certFile, TLSPrivateKeyFile: keyFile }, 'Using self-signed cert');
    return { certFile, keyFile, cert: Buffer.from(pair.cert), key: Buffer.from(pair.key), generated: true };
  } catch (error) {
    throw new SelfSignedServingFilesError(certDirectory, goPathError(error));
  }
}
