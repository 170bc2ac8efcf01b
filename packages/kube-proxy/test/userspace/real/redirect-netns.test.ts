import { IptablesClient, netnsRunner } from '@nodeagent/netfilter';
import { createVethPair, type Netns, NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupPortalRules } from '../../../src/userspace/cleanup-portal-rules';
import { endpointSlice, service } from '../loopback-helpers';
import { NetnsAgent } from './netns-agent-client';

/**
 * REDIRECT mode in namespaces: a "node" namespace runs the proxier (programming its own nat
 * table) and the backends on its loopback; a "client" namespace reaches the node over a veth
 * pair and sends service traffic, which the node's PREROUTING rules redirect to the proxies.
 */
const scope = new NetnsScope('kp-userspace');
let node: Netns;
let nodeAgent: NetnsAgent;
let clientAgent: NetnsAgent;

const NODE_IP = '10.251.1.1';
const CLUSTER_IP = '10.96.7.10';
const STICKY_IP = '10.96.7.11';
const DNS_IP = '10.96.7.12';
const NODE_PORT = 30080;
const backendIPs = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const refusingIP = '127.0.0.19';
const tcpPorts = [{ name: 'http', port: 80 }];
const udpPorts = [{ name: 'dns', port: 53, protocol: 'UDP' }];
const backendTcp = [{ name: 'http', port: 8080 }];
const backendUdp = [{ name: 'dns', port: 5353, protocol: 'UDP' }];

beforeAll(async () => {
  try {
    node = await scope.create();
    const client = await scope.create();
    await createVethPair(
      { netns: node, addresses: [`${NODE_IP}/24`] },
      { netns: client, addresses: ['10.251.1.2/24'] },
    );
    await client.exec('ip', ['route', 'add', 'default', 'via', NODE_IP]);
    // Host-originated service traffic needs a route before OUTPUT's REDIRECT rewrites it.
    await node.exec('ip', ['route', 'add', 'default', 'via', '10.251.1.2']);
    [nodeAgent, clientAgent] = await Promise.all([NetnsAgent.start(node), NetnsAgent.start(client)]);
    for (const [i, ip] of backendIPs.entries()) {
      await nodeAgent.call({ op: 'tcp-backend', name: `b${i}`, host: ip, port: 8080 });
      await nodeAgent.call({ op: 'udp-backend', name: `u${i}`, host: ip, port: 5353 });
    }
    const started = await nodeAgent.call<{ ports: Record<string, number[]>; errors: Record<string, string> }>(
      {
        op: 'proxier-start',
        services: [
          service('web', CLUSTER_IP, tcpPorts, {
            type: 'NodePort',
            ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: NODE_PORT }],
          }),
          service('sticky', STICKY_IP, tcpPorts, {
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } },
          }),
          service('dns', DNS_IP, udpPorts),
          service('flaky', '10.96.7.13', tcpPorts),
        ],
        slices: [
          endpointSlice('web', backendIPs, backendTcp),
          endpointSlice('sticky', backendIPs, backendTcp),
          endpointSlice('dns', backendIPs.slice(0, 2), backendUdp),
          endpointSlice('flaky', [backendIPs[0]!, refusingIP], backendTcp),
        ],
      },
    );
    expect(started.errors).toEqual({});
    expect(Object.keys(started.ports).sort()).toEqual([
      'default/dns:dns',
      'default/flaky:http',
      'default/sticky:http',
      'default/web:http',
    ]);
  } catch (err) {
    await scope.cleanup();
    throw err;
  }
}, 60_000);

afterAll(() => scope.cleanup(), 30_000);

const who = (host: string, port = 80) => clientAgent.call<string>({ op: 'who', host, port });

describe('userspace mode with REDIRECT rules in a namespace', () => {
  it('programs REDIRECT rules in our own chains, hooked from PREROUTING and OUTPUT', async () => {
    const { stdout } = await node.exec('iptables-save', ['-t', 'nat']);
    expect(stdout).toMatch(
      /-A PREROUTING -m comment --comment "handle ClusterIPs[^"]*" -j KUBE-PORTALS-CONTAINER/,
    );
    expect(stdout).toMatch(/-A OUTPUT -m comment --comment "handle ClusterIPs[^"]*" -j KUBE-PORTALS-HOST/);
    expect(stdout).toMatch(/-A PREROUTING .*--dst-type LOCAL .*-j KUBE-NODEPORT-CONTAINER/);
    expect(stdout).toMatch(
      /-A KUBE-PORTALS-CONTAINER -d 10\.96\.7\.10\/32 -p tcp -m comment --comment "default\/web:http cluster IP" -m tcp --dport 80 -j REDIRECT --to-ports \d+/,
    );
    expect(stdout).toMatch(/-A KUBE-NODEPORT-HOST -p tcp .*--dport 30080 -j REDIRECT --to-ports \d+/);
  });

  it('sends ClusterIP traffic from another host to the endpoints round-robin', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await who(CLUSTER_IP));
    // The rotation may start anywhere (other tests share the service); each endpoint gets two.
    expect(answers.slice(0, 3).sort()).toEqual(['b0', 'b1', 'b2']);
    expect(answers.slice(3)).toEqual(answers.slice(0, 3));
  });

  it('serves the node port and host-originated ClusterIP traffic', async () => {
    expect(await who(NODE_IP, NODE_PORT)).toMatch(/^b[012]$/);
    expect(await nodeAgent.call<string>({ op: 'who', host: CLUSTER_IP, port: 80 })).toMatch(/^b[012]$/);
  });

  it('keeps a ClientIP-affine client on one endpoint', async () => {
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add(await who(STICKY_IP));
    expect(answers.size).toBe(1);
  });

  it('skips an endpoint that refuses connections', async () => {
    for (let i = 0; i < 4; i++) expect(await who('10.96.7.13')).toBe('b0');
  });

  it('proxies UDP request/response', async () => {
    const replies = new Set<string>();
    for (let i = 0; i < 4; i++)
      replies.add(await clientAgent.call<string>({ op: 'udp', host: DNS_IP, port: 53, text: `q${i}` }));
    expect(replies).toEqual(new Set(['u0:q0', 'u1:q1', 'u0:q2', 'u1:q3']));
  });

  it('lets an endpoint removed mid-stream finish its connection and gives it no new ones', async () => {
    const conn = await clientAgent.call<number>({ op: 'tcp-open', host: CLUSTER_IP, port: 80 });
    const first = await clientAgent.call<string>({ op: 'tcp-request', conn, text: 'one' });
    const owner = first.split(':')[0]!;
    expect(owner).toMatch(/^b[012]$/);
    const ownerIP = backendIPs[Number(owner.slice(1))]!;
    const remaining = backendIPs.filter((ip) => ip !== ownerIP);
    await nodeAgent.call({
      op: 'slice-update',
      old: endpointSlice('web', backendIPs, backendTcp),
      slice: endpointSlice('web', remaining, backendTcp),
    });
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push(await who(CLUSTER_IP));
    expect(after).not.toContain(owner);
    expect(new Set(after).size).toBe(2);
    expect(await clientAgent.call<string>({ op: 'tcp-request', conn, text: 'two' })).toBe(`${owner}:two`);
    expect(await clientAgent.call<string>({ op: 'tcp-finish', conn })).toBe(`${owner}:bytes=6`);
  });

  // Last: removes the rules the other tests rely on.
  it('cleanupPortalRules removes our jumps and chains and nothing else', async () => {
    await node.exec('iptables', ['-t', 'nat', '-N', 'SOMEONE-ELSE']);
    await node.exec('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-j', 'SOMEONE-ELSE']);
    const iptables = new IptablesClient({ runner: netnsRunner(node.name) });
    expect(await cleanupPortalRules(iptables)).toEqual({ jumps: 4, chains: 4 });
    const { stdout } = await node.exec('iptables-save', ['-t', 'nat']);
    expect(stdout).not.toMatch(/KUBE-(PORTALS|NODEPORT)/);
    expect(stdout).toContain('-A OUTPUT -j SOMEONE-ELSE');
    // Idempotent.
    expect(await cleanupPortalRules(iptables)).toEqual({ jumps: 0, chains: 0 });
  }, 20_000);
});
