import { lstat, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CertificateError } from './certificate-error';
import { type CertificatePair, parseCertificatePair, pemBlocks } from './certificate-pair';

/** Go's "2006-01-02-15-04-05" layout in local time, the suffix of each stored pair's file. */
function timestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}-${two(d.getMinutes())}-${two(d.getSeconds())}`;
}

/**
 * Whether `path` is a symlink (true) or absent (false); anything else there is upstream's
 * unrecoverable "expected … to be a symlink but it is a file".
 */
async function symlinkOrAbsent(path: string): Promise<boolean> {
  try {
    if ((await lstat(path)).isSymbolicLink()) return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  throw new CertificateError(
    'NOT_A_SYMLINK',
    'certificate',
    path,
    `expected "${path}" to be a symlink but it is a file`,
  );
}

/** Where a CertificateFileStore keeps its pairs, and the explicit files it falls back to. */
export interface CertificateStoreOptions {
  /** File prefix: "kubelet-client" or "kubelet-server". */
  pairNamePrefix: string;
  /** --cert-dir. */
  certDirectory: string;
  /** Explicit files (tlsCertFile/tlsPrivateKeyFile, or the kubeconfig's) read when no current pair exists. */
  certFile?: string;
  /** The key file that goes with `certFile`. */
  keyFile?: string;
  /** Current time in epoch milliseconds, for the timestamp in a new pair's file name (default Date.now). */
  now?: () => number;
}

/**
 * Upstream's certificate file store: each new pair goes to `<prefix>-<timestamp>.pem` (certificates
 * then key, 0600) and `<prefix>-current.pem` is a symlink to the newest, swapped atomically through
 * `<prefix>-updated.pem` and a rename.
 */
export class CertificateFileStore {
  constructor(private readonly options: CertificateStoreOptions) {}

  private filename(qualifier: string): string {
    return join(this.options.certDirectory, `${this.options.pairNamePrefix}-${qualifier}.pem`);
  }

  /** The `<prefix>-current.pem` path kubeconfigs point at. */
  currentPath(): string {
    return resolve(this.filename('current'));
  }

  /** The current pair, or undefined when none is stored (nor given as files). */
  async current(): Promise<CertificatePair | undefined> {
    const text = await readFile(this.currentPath(), 'utf8').catch(() => undefined);
    if (text !== undefined) return parseCertificatePair(text, text, this.currentPath());
    const { certFile, keyFile } = this.options;
    if (certFile && keyFile) {
      const cert = await readFile(certFile, 'utf8').catch(() => undefined);
      const key = await readFile(keyFile, 'utf8').catch(() => undefined);
      if (cert !== undefined && key !== undefined) return parseCertificatePair(cert, key, certFile);
    }
    return undefined;
  }

  /** Stores a new pair and points the current symlink at it; returns the parsed pair. */
  async update(certPem: string, keyPem: string): Promise<CertificatePair> {
    const dir = this.options.certDirectory;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const pemPath = resolve(this.filename(timestamp((this.options.now ?? Date.now)())));
    const certs = pemBlocks(certPem, 'CERTIFICATE');
    if (certs.length === 0)
      throw new CertificateError('INVALID_CERTIFICATE', 'certificate', pemPath, 'invalid certificate data');
    const key = pemBlocks(keyPem)[0];
    if (key === undefined)
      throw new CertificateError('INVALID_PRIVATE_KEY', 'privateKey', pemPath, 'invalid key data');
    const text = `${certs.join('')}${key}`;
    const pair = parseCertificatePair(text, text, pemPath);
    await writeFile(pemPath, text, { mode: 0o600 });
    await this.updateSymlink(pemPath);
    return pair;
  }

  private async updateSymlink(target: string): Promise<void> {
    const current = this.currentPath();
    await symlinkOrAbsent(current);
    const updated = resolve(this.filename('updated'));
    if (await symlinkOrAbsent(updated)) await rm(updated);
    await symlink(target, updated);
    // rename(2) over the old link replaces it atomically: readers see the old or the new pair.
    await rename(updated, current);
  }
}
