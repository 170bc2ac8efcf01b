import { constants } from 'node:fs';
import { access, lstat, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { KubeletLogger } from '@nodeagent/kubelet';
import { loadOrWriteSelfSignedServingFiles, type SelfSignedServingFiles } from '@nodeagent/kubelet/server';
import type { ResolvedKubeletOptions } from './kubelet-flags';

/**
 * The serving pair once it is there, and the rule that puts its error first: `files()` settles
 * with the pair (undefined when the configured files or the bootstrapped certificate serve), and
 * `errorFirst` runs the rest of the start so that a --cert-dir failure is what the operator sees,
 * whatever else failed after it.
 */
export interface PendingServingPair {
  files(): Promise<SelfSignedServingFiles | undefined>;
  errorFirst<T>(start: () => Promise<T>): Promise<T>;
}

/** true: the path exists (whatever it is); an error other than ENOENT counts as there. */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
}

/**
 * Whether generating the pair is sure to write (checked in a few stat calls, before the ~160 ms
 * RSA key generation): neither file is there, and --cert-dir, or the nearest of its ancestors that
 * exists, is a directory this process may write into. Anything else (a file in the way, a
 * read-only mount, an unreadable half of the pair) answers false and the pair is made before
 * anything else, so the error is upstream's, first and alone.
 */
async function generationCanWrite(certDirectory: string): Promise<boolean> {
  const present = await Promise.all(
    ['kubelet.crt', 'kubelet.key'].map((f) => exists(join(certDirectory, f))),
  );
  if (present.some(Boolean)) return false;
  for (let dir = resolve(certDirectory); ; dir = dirname(dir)) {
    const found = await stat(dir).then(
      (stats) => stats,
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : null),
    );
    if (found === null) return false;
    if (found)
      return (
        found.isDirectory() &&
        access(dir, constants.W_OK | constants.X_OK).then(
          () => true,
          () => false,
        )
      );
    if (dirname(dir) === dir) return false;
  }
}

/** A pair settled before the rest of the start: its error has already been thrown. */
function settled(files: SelfSignedServingFiles | undefined): PendingServingPair {
  return { files: async () => files, errorFirst: (start) => start() };
}

/** A pair being generated while the start goes on: its error replaces any later one. */
function inBackground(generation: Promise<SelfSignedServingFiles>): PendingServingPair {
  // Observed at once: a failure is reported where the pair is awaited, never as unhandled.
  generation.catch(() => undefined);
  return {
    files: () => generation,
    async errorFirst(start) {
      try {
        return await start();
      } catch (error) {
        await generation;
        throw error;
      }
    },
  };
}

/**
 * Upstream's InitializeTLS, which runs before anything else of the kubelet (in
 * UnsecuredDependencies) and whether or not the server is enabled: with neither tlsCertFile nor
 * tlsPrivateKeyFile set and serverTLSBootstrap off, the serving pair is <--cert-dir>/kubelet.crt
 * and kubelet.key, read if both are there, else generated for the hostname and written. A
 * directory or file it cannot write stops the kubelet (`--cert-dir: ...`).
 *
 * Generating (two RSA-2048 keys, ~160 ms on libuv's pool with the main thread idle) overlaps the
 * rest of the start when generationCanWrite says the write will succeed; otherwise (and when the
 * pair is read) it is awaited here, before anything else, as upstream.
 */
export async function startSelfSignedServingPair(
  { flags, config }: ResolvedKubeletOptions,
  hostname: string,
  logger: KubeletLogger,
): Promise<PendingServingPair> {
  if (config.serverTLSBootstrap || config.tlsCertFile || config.tlsPrivateKeyFile) return settled(undefined);
  // pino's trace is what -v=4 turns on (cli.ts); a logger without it stays silent, as V(4) does.
  const verbose = logger as Partial<{ trace(fields: object, msg: string): void }>;
  const generation = () =>
    loadOrWriteSelfSignedServingFiles({
      certDirectory: flags.certDir,
      host: hostname,
      logV4: verbose.trace && ((fields, msg) => verbose.trace?.(fields, msg)),
    });
  if (await generationCanWrite(flags.certDir)) return inBackground(generation());
  return settled(await generation());
}
