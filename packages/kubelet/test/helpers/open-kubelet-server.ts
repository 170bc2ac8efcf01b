import type { KubeletServerOptions } from '../../src/server/kubelet-server';
import { alwaysAllow, kubeletAuthenticator } from '../../src/server/server-auth';
import type { EngineHarness } from './engine';

/**
 * createKubeletServer's options for the engine harness's kubelet with the door open: anonymous
 * requests (no client certificates) and every one allowed, as --anonymous-auth=true with
 * --authorization-mode=AlwaysAllow; a test adds the routes' sources it needs.
 */
export function openServerOptions(
  h: EngineHarness,
): Pick<KubeletServerOptions, 'kubelet' | 'nodeName' | 'podLogsDir' | 'authenticate' | 'authorize'> {
  return {
    kubelet: h.kubelet,
    nodeName: 'node-a',
    podLogsDir: `${h.dir}/logs`,
    authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
    authorize: alwaysAllow,
  };
}
