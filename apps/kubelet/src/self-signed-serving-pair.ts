import type { KubeletLogger } from '@nodeagent/kubelet';
import { loadOrWriteSelfSignedServingFiles, type SelfSignedServingFiles } from '@nodeagent/kubelet/server';
import type { ResolvedKubeletOptions } from './kubelet-flags';

/**
 * Upstream's InitializeTLS, which runs before anything else of the kubelet (in
 * UnsecuredDependencies) and whether or not the server is enabled: with neither tlsCertFile nor
 * tlsPrivateKeyFile set and serverTLSBootstrap off, the serving pair is <--cert-dir>/kubelet.crt
 * and kubelet.key, read if both are there, else generated for the hostname and written. A
 * directory or file it cannot write stops the kubelet (`--cert-dir: ...`). Otherwise undefined:
 * the configured files or the bootstrapped certificate serve instead.
 */
export async function selfSignedServingPair(
  { flags, config }: ResolvedKubeletOptions,
  hostname: string,
  logger: KubeletLogger,
): Promise<SelfSignedServingFiles | undefined> {
  if (config.serverTLSBootstrap || config.tlsCertFile || config.tlsPrivateKeyFile) return undefined;
  // pino's trace is what -v=4 turns on (cli.ts); a logger without it stays silent, as V(4) does.
  const verbose = logger as Partial<{ trace(fields: object, msg: string): void }>;
  return loadOrWriteSelfSignedServingFiles({
    certDirectory: flags.certDir,
    host: hostname,
    logV4: verbose.trace && ((fields, msg) => verbose.trace?.(fields, msg)),
  });
}
