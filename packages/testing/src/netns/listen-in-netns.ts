import type { Server } from 'node:net';
import type { Netns } from './netns';

// Run in the namespace: bind, hand the listening socket to the parent over the IPC channel
// (SCM_RIGHTS), exit. The socket stays in the namespace it was made in; the parent accepts on it.
const LISTENER = `
const net = require('node:net');
const server = net.createServer();
server.on('error', (e) => { process.stderr.write(e.code + '\\n'); process.exit(2); });
server.listen(Number(process.argv[1]), process.argv[2], () =>
  process.send('listening', server, () => { server.close(); process.disconnect(); }));
`;

/** A listener could not be made inside a namespace (the port taken, nsenter missing). */
export class NetnsListenError extends Error {
  override readonly name = 'NetnsListenError';
}

/**
 * A TCP listener bound to `host:port` inside `ns` whose connections this process accepts: a
 * client in the namespace reaches a server of this process (pass the listener to
 * `ApiServer.serve`, or take its `connection` events) with no forwarder and no copy in between.
 * A short-lived child made in the namespace binds the socket and passes it over its IPC channel.
 * Close the listener when done; deleting the namespace does not close it.
 */
export async function listenInNetns(ns: Netns, port: number, host = '127.0.0.1'): Promise<Server> {
  const child = ns.spawn(process.execPath, ['-e', LISTENER, String(port), host], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' }, // not a test runner's loaders
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<Server>((resolve, reject) => {
    child.once('message', (_message, handle) => resolve(handle as Server));
    child.once('error', (err) => reject(new NetnsListenError(`listen in ${ns.name}: ${err.message}`)));
    child.once('exit', (code) =>
      reject(
        new NetnsListenError(
          `listen on ${host}:${port} in ${ns.name}: ${stderr.trim() || `listener exited (${code})`}`,
        ),
      ),
    );
  });
}
