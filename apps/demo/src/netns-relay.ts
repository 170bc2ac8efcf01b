/**
 * Child process run inside the node's network namespace, bridging it and the host over a unix
 * socket (not namespaced):
 * - `--port <p> --unix <path>`: listens on 127.0.0.1:<p> there and relays to the unix socket, so
 *   the kubelet and kube-proxy reach the API server with the same kubeconfig the user's kubectl
 *   uses on the host;
 * - `--port <p> --unix <path> --to-host <ip>`: listens on the unix socket and relays to <ip>:<p>
 *   in the namespace, so the API server on the host reaches the kubelet's server there
 *   (kubectl logs, exec, port-forward).
 */
import { parseArgs } from 'node:util';
import { startSocketRelay } from './socket-relay';

const { values } = parseArgs({
  options: { port: { type: 'string' }, unix: { type: 'string' }, 'to-host': { type: 'string' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || !values.unix) {
  process.stderr.write('usage: netns-relay --port <port> --unix <path> [--to-host <ip>]\n');
  process.exit(2);
}
const toHost = values['to-host'];
const relay = toHost
  ? await startSocketRelay({ path: values.unix }, { host: toHost, port })
  : await startSocketRelay({ host: '127.0.0.1', port }, { path: values.unix });
process.stdout.write(
  toHost
    ? `relaying ${values.unix} -> ${toHost}:${port}\n`
    : `relaying 127.0.0.1:${port} -> ${values.unix}\n`,
);
const stop = () => void relay.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
