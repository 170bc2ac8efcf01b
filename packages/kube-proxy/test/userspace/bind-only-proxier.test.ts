import net from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UserspaceMetrics } from '../../src/userspace/userspace-metrics';
import { UserspaceProxier, type UserspaceProxierOptions } from '../../src/userspace/userspace-proxier';
import {
  type Backend,
  debugField,
  endpointSlice,
  freePort,
  loopbackPrefix,
  service,
  TcpClient,
  tcpBackend,
  udpBackend,
  udpRequest,
  whoAnswers,
} from './loopback-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  prefix: string;
  clusterIP: string;
  svcPort: number;
  backends: Backend[];
  proxier: UserspaceProxier;
  metrics: UserspaceMetrics;
}

/** Backends on <prefix>.11.., a bind-only proxier, one Service "web" at <prefix>.1. */
async function setup(
  backendCount: number,
  opts: {
    protocol?: 'TCP' | 'UDP';
    spec?: Parameters<typeof service>[3];
    proxier?: Partial<UserspaceProxierOptions>;
    /** Endpoints with nothing listening, as a function of the run's loopback prefix. */
    extraEndpointIPs?: (prefix: string) => string[];
  } = {},
): Promise<Setup> {
  const prefix = loopbackPrefix();
  const clusterIP = `${prefix}.1`;
  const protocol = opts.protocol ?? 'TCP';
  const backends: Backend[] = [];
  let backendPort = 0;
  for (let i = 0; i < backendCount; i++) {
    const make = protocol === 'UDP' ? udpBackend : tcpBackend;
    const b = await make(`b${i}`, `${prefix}.${11 + i}`, backendPort);
    backendPort = b.port;
    backends.push(b);
    cleanups.push(() => b.close());
  }
  if (backendPort === 0) backendPort = await freePort(`${prefix}.11`);
  const svcPort = await freePort(clusterIP);
  const registry = new Registry();
  const metrics = new UserspaceMetrics(registry);
  const proxier = new UserspaceProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    bindOnly: true,
    userspaceMetrics: metrics,
    ...opts.proxier,
  });
  cleanups.push(() => proxier.stop());
  const ports = [{ name: 'p', port: svcPort, protocol }];
  proxier.onServiceAdd(service('web', clusterIP, ports, opts.spec));
  const ips = [...backends.map((b) => b.ip), ...(opts.extraEndpointIPs?.(prefix) ?? [])];
  proxier.onEndpointSliceAdd(endpointSlice('web', ips, [{ name: 'p', port: backendPort, protocol }]));
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  const result = await proxier.syncProxyRules();
  expect(result?.ok).toBe(true);
  return { prefix, clusterIP, svcPort, backends, proxier, metrics };
}

async function counter(
  metrics: UserspaceMetrics,
  which: 'connectionsTotal' | 'connectionErrorsTotal',
  reason?: string,
) {
  const values = (await metrics[which].get()).values;
  return values
    .filter((v) => reason === undefined || (v.labels as Record<string, unknown>).reason === reason)
    .reduce((sum, v) => sum + v.value, 0);
}

describe('UserspaceProxier, bind-only on loopback', () => {
  it('forwards connections round-robin across endpoints', async () => {
    const s = await setup(3);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await whoAnswers(s.clusterIP, s.svcPort));
    expect(answers).toEqual(['b0', 'b1', 'b2', 'b0', 'b1', 'b2']);
    expect(await counter(s.metrics, 'connectionsTotal')).toBe(6);
  });

  it('honours sessionAffinity ClientIP', async () => {
    const s = await setup(3, {
      spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
    });
    const fromA = new Set<string>();
    for (let i = 0; i < 5; i++) fromA.add(await whoAnswers(s.clusterIP, s.svcPort, `${s.prefix}.201`));
    expect(fromA.size).toBe(1);
    expect([...fromA][0]).toMatch(/^b\d$/);
    // A second client is rotated onto another endpoint and then sticks there too.
    const fromB = new Set<string>();
    for (let i = 0; i < 5; i++) fromB.add(await whoAnswers(s.clusterIP, s.svcPort, `${s.prefix}.202`));
    expect(fromB.size).toBe(1);
    expect([...fromB][0]).not.toBe([...fromA][0]);
  });

  it('skips an endpoint that refuses connections', async () => {
    const { values: dialFailures, logger } = debugField('endpoint dial failed', 'endpoint');
    // <prefix>.9 has nothing listening: connecting there is refused at once.
    const s = await setup(1, { extraEndpointIPs: (p) => [`${p}.9`], proxier: { logger } });
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(await whoAnswers(s.clusterIP, s.svcPort));
    expect(answers).toEqual(['b0', 'b0', 'b0', 'b0']);
    // Round-robin sent some connections to the refusing endpoint first; each was retried.
    expect(dialFailures.length).toBeGreaterThan(0);
    expect(new Set(dialFailures)).toEqual(new Set([`${s.prefix}.9:${s.backends[0]!.port}`]));
    expect(await counter(s.metrics, 'connectionErrorsTotal')).toBe(0);
  });

  it("drops a deleted Service's series once its last connection has closed", async () => {
    const s = await setup(1);
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('b0');
    const series = async () => (await s.metrics.connectionsTotal.get()).values.length;
    expect(await series()).toBe(1);
    s.proxier.onServiceDelete(service('web', s.clusterIP, [{ name: 'p', port: s.svcPort }]));
    // The proxy's side of the connection may close a little after the client's.
    await waitFor(() => s.proxier.activeConnections('default/web:p') === 0);
    expect((await s.proxier.syncProxyRules())?.ok).toBe(true);
    expect(await series()).toBe(0);
    expect((await s.metrics.activeConnections.get()).values).toEqual([]);
  });

  it('resets the client when no endpoint accepts, and counts it', async () => {
    const s = await setup(0, { extraEndpointIPs: (p) => [`${p}.50`, `${p}.51`] });
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('');
    expect(await counter(s.metrics, 'connectionErrorsTotal', 'dial')).toBe(1);
  });

  it('resets the client when the service has no endpoints', async () => {
    const s = await setup(0);
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('');
    expect(await counter(s.metrics, 'connectionErrorsTotal', 'no_endpoints')).toBe(1);
  });

  it('lets a removed endpoint finish its open connection and gives it no new ones', async () => {
    const s = await setup(2);
    const held = await TcpClient.connect(s.clusterIP, s.svcPort);
    cleanups.push(() => held.close());
    expect(await held.request('one')).toBe('b0:one');
    // b0 leaves the service.
    const backendPort = s.backends[0]!.port;
    s.proxier.onEndpointSliceUpdate(
      endpointSlice('web', [s.backends[0]!.ip, s.backends[1]!.ip], [{ name: 'p', port: backendPort }]),
      endpointSlice('web', [s.backends[1]!.ip], [{ name: 'p', port: backendPort }]),
    );
    expect((await s.proxier.syncProxyRules())?.ok).toBe(true);
    for (let i = 0; i < 4; i++) expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('b1');
    expect(await held.request('two')).toBe('b0:two');
    held.socket.end();
    expect(await held.untilClosed()).toBe('b0:bytes=6');
  });

  it('keeps draining connections of a deleted service while its listener is gone', async () => {
    const s = await setup(1);
    const held = await TcpClient.connect(s.clusterIP, s.svcPort);
    cleanups.push(() => held.close());
    expect(await held.request('one')).toBe('b0:one');
    s.proxier.onServiceDelete(service('web', s.clusterIP, [{ name: 'p', port: s.svcPort }]));
    await s.proxier.syncProxyRules();
    expect(s.proxier.proxyPorts().has('default/web:p')).toBe(false);
    expect(s.proxier.activeConnections('default/web:p')).toBe(1);
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('');
    expect(await held.request('two')).toBe('b0:two');
  });

  it('passes half-close through: the client FIN reaches the backend, its reply still arrives', async () => {
    const s = await setup(1);
    const c = await TcpClient.connect(s.clusterIP, s.svcPort);
    cleanups.push(() => c.close());
    c.socket.end('abc');
    // The backend answers the data, then on our FIN reports the byte count and ends.
    expect(await c.untilClosed()).toBe('b0:abcb0:bytes=3');
  });

  it('moves a large transfer intact (piped with backpressure)', async () => {
    const s = await setup(1);
    const c = await TcpClient.connect(s.clusterIP, s.svcPort);
    cleanups.push(() => c.close());
    const size = 8 * 1024 * 1024;
    c.socket.end(Buffer.alloc(size, 7));
    const received = await c.untilClosed(20_000);
    // A reset shows as its error rather than as an empty reply.
    expect(c.error?.message ?? received).toBe(`b0:bytes=${size}`);
  });

  it('enforces the per-service connection limit', async () => {
    const s = await setup(1, { proxier: { maxConnectionsPerService: 1 } });
    const first = await TcpClient.connect(s.clusterIP, s.svcPort);
    cleanups.push(() => first.close());
    expect(await first.request('x')).toBe('b0:x');
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('');
    expect(await counter(s.metrics, 'connectionErrorsTotal', 'limit')).toBe(1);
    first.close();
    await waitFor(() => s.proxier.activeConnections('default/web:p') === 0);
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('b0');
  });

  it('proxies UDP request/response and ends idle sessions', async () => {
    const s = await setup(2, { protocol: 'UDP', proxier: { udpIdleTimeoutMs: 100 } });
    const replies = new Set<string>();
    for (let i = 0; i < 4; i++) replies.add(await udpRequest(s.clusterIP, s.svcPort, `q${i}`));
    expect(replies).toEqual(new Set(['b0:q0', 'b1:q1', 'b0:q2', 'b1:q3']));
    expect(s.proxier.activeConnections('default/web:p')).toBeGreaterThan(0);
    await waitFor(() => s.proxier.activeConnections('default/web:p') === 0);
  });

  it('survives an endpoint resetting connections mid-stream, logging it per connection', async () => {
    const { values: errors, logger } = debugField('connection error', 'side');
    // <prefix>.9 accepts, then resets as soon as data arrives.
    const s = await setup(1, { extraEndpointIPs: (p) => [`${p}.9`], proxier: { logger } });
    const rude = net.createServer((c) => c.once('data', () => c.resetAndDestroy()));
    await new Promise<void>((resolve) =>
      rude.listen({ host: `${s.prefix}.9`, port: s.backends[0]!.port }, resolve),
    );
    cleanups.push(() => new Promise<void>((resolve) => rude.close(() => resolve())));
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(await whoAnswers(s.clusterIP, s.svcPort));
    expect(answers.filter((a) => a === 'b0')).toHaveLength(2);
    expect(answers.filter((a) => a === '')).toHaveLength(2);
    expect(errors).toContain('endpoint');
    expect(await whoAnswers(s.clusterIP, s.svcPort)).toBe('b0');
  });

  it('limits UDP sessions per service', async () => {
    const s = await setup(1, {
      protocol: 'UDP',
      proxier: { maxConnectionsPerService: 1, udpIdleTimeoutMs: 60_000 },
    });
    expect(await udpRequest(s.clusterIP, s.svcPort, 'first')).toBe('b0:first');
    // A second client address would open a second session: dropped and counted.
    await expect(udpRequest(s.clusterIP, s.svcPort, 'second', 300)).rejects.toThrow(/timed out/);
    expect(await counter(s.metrics, 'connectionErrorsTotal', 'limit')).toBe(1);
    expect(s.proxier.activeConnections('default/web:p')).toBe(1);
  });

  it('works for an IPv6 service on ::1', async () => {
    const b = await tcpBackend('b6', '::1', 0);
    cleanups.push(() => b.close());
    const svcPort = await freePort('::1');
    const proxier = new UserspaceProxier({ family: 'IPv6', nodeName: 'n', bindOnly: true });
    cleanups.push(() => proxier.stop());
    proxier.onServiceAdd(service('v6', '::1', [{ name: 'p', port: svcPort }], { ipFamilies: ['IPv6'] }));
    const slice = endpointSlice('v6', ['::1'], [{ name: 'p', port: b.port }]);
    slice.addressType = 'IPv6';
    proxier.onEndpointSliceAdd(slice);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect((await proxier.syncProxyRules())?.ok).toBe(true);
    expect(proxier.serviceErrors().size).toBe(0);
    expect(await whoAnswers('::1', svcPort)).toBe('b6');
  });

  it('reports a port already in use for that service only; the others work', async () => {
    const prefix = loopbackPrefix();
    const blockedIP = `${prefix}.1`;
    const okIP = `${prefix}.2`;
    const port = await freePort(blockedIP);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: blockedIP, port }, resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const b = await tcpBackend('b0', `${prefix}.11`, 0);
    cleanups.push(() => b.close());

    const proxier = new UserspaceProxier({ family: 'IPv4', nodeName: 'n', bindOnly: true });
    cleanups.push(() => proxier.stop());
    const ports = [{ name: 'p', port }];
    proxier.onServiceAdd(service('blocked', blockedIP, ports));
    proxier.onServiceAdd(service('ok', okIP, ports));
    proxier.onServiceAdd(service('sctp', okIP, [{ name: 's', port, protocol: 'SCTP' }]));
    for (const name of ['blocked', 'ok'])
      proxier.onEndpointSliceAdd(endpointSlice(name, [b.ip], [{ name: 'p', port: b.port }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect((await proxier.syncProxyRules())?.ok).toBe(true);

    const err = proxier.serviceErrors().get('default/blocked:p');
    expect(err?.code).toBe('PORT_IN_USE');
    expect(err?.message).toContain(
      `default/blocked:p: cannot listen on ${blockedIP}:${port}: port already in use`,
    );
    expect(proxier.serviceErrors().get('default/sctp:s')?.code).toBe('UNSUPPORTED_PROTOCOL');
    expect(proxier.serviceErrors().has('default/ok:p')).toBe(false);
    expect(await whoAnswers(okIP, port)).toBe('b0');

    // Once the port is free, the next sync opens the proxy.
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await proxier.syncProxyRules();
    expect(proxier.serviceErrors().has('default/blocked:p')).toBe(false);
    expect(await whoAnswers(blockedIP, port)).toBe('b0');
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
