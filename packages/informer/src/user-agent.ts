import { basename, extname } from 'node:path';
import { goArch, KUBERNETES_VERSION } from '@nodeagent/primitives';

/** Where the default user agent's command name comes from (this process's, unless a test says). */
export interface UserAgentSource {
  execPath: string;
  /** The script node runs (process.argv[1]), when execPath is node itself. */
  script?: string;
  platform: string;
  arch: string;
}

function thisProcess(): UserAgentSource {
  return {
    execPath: process.execPath,
    script: process.argv[1],
    platform: process.platform,
    arch: process.arch,
  };
}

/**
 * client-go's DefaultKubernetesUserAgent: `<command>/<version> (<os>/<arch>) kubernetes/<commit>`,
 * the command being the executable's base name (`kubelet/v1.36.3 (linux/amd64) kubernetes/unknown`
 * for our single executable installed as /usr/bin/kubelet; our builds stamp no commit, which
 * client-go writes as "unknown"). Run by node itself (a library user, a test), the command is the
 * script's base name without its extension.
 */
export function defaultUserAgent(source: UserAgentSource = thisProcess()): string {
  const executable = basename(source.execPath);
  const command =
    executable === 'node' && source.script ? basename(source.script, extname(source.script)) : executable;
  return `${command}/${KUBERNETES_VERSION} (${source.platform}/${goArch(source.arch)}) kubernetes/unknown`;
}

let processUserAgent: string | undefined;

/**
 * Sets the default User-Agent on a request's headers unless one is there (a client that names
 * itself, such as a hollow node, keeps its own), as client-go sends it on every request.
 */
export function withDefaultUserAgent(headers: Record<string, unknown>): void {
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) return;
  processUserAgent ??= defaultUserAgent();
  headers['User-Agent'] = processUserAgent;
}
