import { Agent, request } from 'node:http';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hollowUserAgent } from '../src/node-identity';
import { RequestCounter } from '../src/request-counter';
import { until } from './until';

// The counter where requests arrive (an API server in this process), as the bench counts them: a hollow node's by
// the name in its user agent; with `others`, every request without a hollow user agent (the real
// kubelet's and kube-proxy's) for the bench's real node.

let api: ApiServer;
let port: number;

beforeAll(async () => {
  api = await startApiServer({ certificates: false });
  port = api.port;
});

afterAll(async () => {
  await api.close();
});

/**
 * One GET with `userAgent` (none when undefined), resolved when its answer has been read; over a
 * connection of its own unless `agent` keeps one.
 */
function send(path: string, userAgent?: string, agent: Agent | false = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = userAgent === undefined ? {} : { 'User-Agent': userAgent };
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends the three clients' requests with `counter` counting. */
async function sendAll(counter: RequestCounter): Promise<void> {
  counter.start();
  try {
    await send('/api/v1/nodes/hollow-node-0', hollowUserAgent('0.1.0', 'hollow-node-0'));
    // A hollow node of another process (not in `nodes`): nobody's here.
    await send('/api/v1/nodes/hollow-node-7', hollowUserAgent('0.1.0', 'hollow-node-7'));
    await send('/api/v1/pods?fieldSelector=spec.nodeName%3Dreal-node');
    await send(
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/real-node',
      'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    );
  } finally {
    counter.stop();
  }
}

const kinds = (counter: RequestCounter, node: string) =>
  Object.fromEntries(counter.perNode.get(node)?.byKind ?? []);

describe('RequestCounter: who a request counts for', () => {
  it('counts every request without a hollow user agent for `others`, a hollow one for its node', async () => {
    const counter = new RequestCounter(['hollow-node-0'], api, 'real-node');
    await sendAll(counter);
    expect(kinds(counter, 'hollow-node-0')).toEqual({ 'GET nodes': 1 });
    expect(kinds(counter, 'real-node')).toEqual({ 'LIST pods': 1, 'GET leases': 1 });
    expect(counter.perNode.get('real-node')?.sockets.totals().received).toBeGreaterThan(0);
  });

  it('without `others` counts only the hollow nodes named', async () => {
    const counter = new RequestCounter(['hollow-node-0'], api);
    await sendAll(counter);
    expect([...counter.perNode.keys()]).toEqual(['hollow-node-0']);
    expect(counter.perNode.get('hollow-node-0')?.total).toBe(1);
  });
});

describe('RequestCounter: the connections a node used', () => {
  it('counts each connection once however many requests it carried, open and opened, and from a reset on', async () => {
    const counter = new RequestCounter(['hollow-node-0'], api, 'real-node');
    await sendAll(counter);
    // The real node's two requests came over connections of their own, the hollow node's one.
    const sockets = (node: string) => counter.perNode.get(node)?.sockets;
    expect(sockets('real-node')?.totals().opened).toBe(2);
    expect(sockets('hollow-node-0')?.totals().opened).toBe(1);
    // Closed connections stay counted as opened, and are no longer open.
    expect(await until(() => sockets('real-node')?.open() === 0, 10_000)).toBe(true);
    expect(sockets('real-node')?.totals().opened).toBe(2);
    counter.resetCounts();
    expect(sockets('real-node')?.totals().opened).toBe(0);

    // Three requests over one kept connection: one connection, open while the agent keeps it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    counter.start();
    try {
      for (let i = 0; i < 3; i++) await send('/api/v1/nodes/real-node', undefined, agent);
    } finally {
      counter.stop();
    }
    expect(counter.perNode.get('real-node')?.byKind.get('GET nodes')).toBe(3);
    expect(sockets('real-node')?.totals().opened).toBe(1);
    expect(sockets('real-node')?.open()).toBe(1);
    agent.destroy();
  });
});
