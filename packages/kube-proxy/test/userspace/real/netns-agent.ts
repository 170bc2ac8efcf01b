/**
 * Runs inside a network namespace (spawned through nsenter by netns-agent-client.ts) and
 * executes JSON-line commands from stdin: start backends, run a REDIRECT-mode
 * UserspaceProxier against this namespace's own iptables, or act as a client. A Node process
 * cannot move its sockets into another namespace, so everything that must live "on the node"
 * or "in the client" runs in one of these.
 */

import { createInterface } from 'node:readline';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { portalIptablesFor } from '../../../src/userspace/portal-iptables';
import { UserspaceProxier } from '../../../src/userspace/userspace-proxier';
import { TcpClient, tcpBackend, udpBackend, udpRequest, whoAnswers } from '../loopback-helpers';

type Command =
  | { op: 'tcp-backend' | 'udp-backend'; name: string; host: string; port: number }
  | { op: 'proxier-start'; services: Wire<V1Service>[]; slices: Wire<V1EndpointSlice>[] }
  | { op: 'slice-update'; old: Wire<V1EndpointSlice>; slice: Wire<V1EndpointSlice> }
  | { op: 'who'; host: string; port: number; localAddress?: string }
  | { op: 'tcp-open'; host: string; port: number }
  | { op: 'tcp-request'; conn: number; text: string }
  | { op: 'tcp-finish'; conn: number }
  | { op: 'udp'; host: string; port: number; text: string }
  | { op: 'active'; servicePort: string };

let proxier: UserspaceProxier | undefined;
const conns = new Map<number, TcpClient>();
let nextConn = 1;

async function sync(): Promise<unknown> {
  const result = await proxier!.syncProxyRules();
  if (!result?.ok) throw result?.error ?? new Error('proxier not initialised');
  return {
    ports: Object.fromEntries(proxier!.proxyPorts()),
    errors: Object.fromEntries([...proxier!.serviceErrors()].map(([k, e]) => [k, e.code])),
  };
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'tcp-backend':
      return (await tcpBackend(cmd.name, cmd.host, cmd.port)).port;
    case 'udp-backend':
      return (await udpBackend(cmd.name, cmd.host, cmd.port)).port;
    case 'proxier-start': {
      proxier = new UserspaceProxier({
        family: 'IPv4',
        nodeName: 'node-a',
        iptables: portalIptablesFor('IPv4'),
        udpIdleTimeoutMs: 1000,
      });
      for (const s of cmd.services) proxier.onServiceAdd(s);
      for (const s of cmd.slices) proxier.onEndpointSliceAdd(s);
      proxier.onServicesSynced();
      proxier.onEndpointSlicesSynced();
      return sync();
    }
    case 'slice-update':
      proxier!.onEndpointSliceUpdate(cmd.old, cmd.slice);
      return sync();
    case 'who':
      return whoAnswers(cmd.host, cmd.port, cmd.localAddress);
    case 'tcp-open': {
      const id = nextConn++;
      conns.set(id, await TcpClient.connect(cmd.host, cmd.port));
      return id;
    }
    case 'tcp-request':
      return conns.get(cmd.conn)!.request(cmd.text);
    case 'tcp-finish': {
      const c = conns.get(cmd.conn)!;
      c.socket.end();
      return c.untilClosed();
    }
    case 'udp':
      return udpRequest(cmd.host, cmd.port, cmd.text);
    case 'active':
      return proxier!.activeConnections(cmd.servicePort);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const { id, ...cmd } = JSON.parse(line) as Command & { id: number };
  handle(cmd as Command).then(
    (value) => process.stdout.write(`${JSON.stringify({ id, value })}\n`),
    (err: Error) => process.stdout.write(`${JSON.stringify({ id, error: `${err.name}: ${err.message}` })}\n`),
  );
});
// The parent closing stdin (or dying) ends us; the namespace's deletion removes the rules.
rl.on('close', () => {
  void proxier?.stop().finally(() => process.exit(0));
  if (!proxier) process.exit(0);
});
process.stdout.write(`${JSON.stringify({ id: 0, value: 'ready' })}\n`);
