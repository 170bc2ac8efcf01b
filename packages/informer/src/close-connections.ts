import type { KubeConfig } from '@kubernetes/client-node';
import { connectionGroupOf } from './connection-groups';
import { closeKeptAgents, serverOrigin } from './connection-options';
import { closeHttp2Connections } from './http2-connections';

/**
 * Closes every connection `kubeConfig`'s requests may be using to its API server, as the
 * kubelet's connection-tracking dialer does (client-go's connrotation `CloseAll`): the HTTP/2
 * connections of its connection group (see separateConnections; without one, every KubeConfig
 * of the process that shares them) and the sockets of their HTTP/1.1 agents. Their requests
 * and watches fail at once, and watches start again on a new connection.
 *
 * The kubelet calls it when a status update or Lease renewal fails again (a connection may hang
 * where the peer went away without a FIN) and when its client certificate rotates (the old
 * connections were authenticated with the old certificate).
 */
export function closeAllConnections(kubeConfig: KubeConfig): void {
  const origin = serverOrigin(kubeConfig);
  if (!origin) return;
  const group = connectionGroupOf(kubeConfig);
  closeHttp2Connections(origin, group, new Error('use of closed network connection'));
  closeKeptAgents(origin, group);
}
