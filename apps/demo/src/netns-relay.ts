/**
 * Child process run inside a node's network namespace, bridging it and the host over unix
 * sockets (not namespaced). One process per node carries both directions:
 * - `--port <p> --unix <path>`: listens on 127.0.0.1:<p> there and relays to the unix socket, so
 *   the kubelet and kube-proxy reach the API server with the same kubeconfig the user's kubectl
 *   uses on the host;
 * - `--kubelet-unix <path> --kubelet <ip>:<port>` (optional): listens on that unix socket and
 *   relays to <ip>:<port> in the namespace, so the API server on the host reaches the kubelet's
 *   server there (kubectl logs, exec, port-forward).
 */
import { parseArgs } from 'node:util';
import { type SocketRelay, startSocketRelay } from './socket-relay';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    unix: { type: 'string' },
    'kubelet-unix': { type: 'string' },
    kubelet: { type: 'string' },
  },
});
const port = Number(values.port);
const kubelet = /^([\d.]+):(\d+)$/.exec(values.kubelet ?? '');
if (
  !Number.isInteger(port) ||
  !values.unix ||
  (values['kubelet-unix'] === undefined) !== (values.kubelet === undefined) ||
  (values.kubelet !== undefined && !kubelet)
) {
  process.stderr.write(
    'usage: netns-relay --port <port> --unix <path> [--kubelet-unix <path> --kubelet <ip>:<port>]\n',
  );
  process.exit(2);
}
const relays: SocketRelay[] = [await startSocketRelay({ host: '127.0.0.1', port }, { path: values.unix })];
process.stdout.write(`relaying 127.0.0.1:${port} -> ${values.unix}\n`);
if (kubelet && values['kubelet-unix']) {
  const [, host, kubeletPort] = kubelet;
  relays.push(
    await startSocketRelay(
      { path: values['kubelet-unix'] },
      { host: host as string, port: Number(kubeletPort) },
    ),
  );
  process.stdout.write(`relaying ${values['kubelet-unix']} -> ${values.kubelet}\n`);
}
const stop = () => void Promise.all(relays.map((r) => r.close())).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
