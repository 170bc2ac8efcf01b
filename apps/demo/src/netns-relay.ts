/**
 * Child process run inside the node's network namespace: listens on 127.0.0.1:<port> there and
 * relays to a unix socket, so the kubelet and kube-proxy reach the API server with the same
 * kubeconfig the user's kubectl uses on the host.
 */
import { parseArgs } from 'node:util';
import { startSocketRelay } from './socket-relay';

const { values } = parseArgs({ options: { port: { type: 'string' }, unix: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || !values.unix) {
  process.stderr.write('usage: netns-relay --port <port> --unix <path>\n');
  process.exit(2);
}
const relay = await startSocketRelay({ host: '127.0.0.1', port }, { path: values.unix });
process.stdout.write(`relaying 127.0.0.1:${port} -> ${values.unix}\n`);
const stop = () => void relay.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
