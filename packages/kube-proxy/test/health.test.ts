import { FakeClock } from '@nodeagent/primitives';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthzServer, KubeProxyMetrics, ProxierHealth, ServiceHealthServer } from '../src/index';
import { formatGoTime } from '../src/runtime/index';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('ProxierHealth', () => {
  it('is healthy at start and while a queued update is younger than the timeout', () => {
    const clock = new FakeClock(0);
    const h = new ProxierHealth(60_000, clock);
    expect(h.status().healthy).toBe(true);
    h.updated('IPv4');
    h.queuedUpdate('IPv4');
    clock.advance(59_999);
    expect(h.status().healthy).toBe(true);
    clock.advance(1);
    expect(h.status().healthy).toBe(false);
    h.updated('IPv4');
    expect(h.status()).toEqual({ healthy: true, lastUpdated: 60_000, currentTime: 60_000 });
  });

  it('is unhealthy when one family of a dual-stack pair is stuck', () => {
    const clock = new FakeClock(0);
    const h = new ProxierHealth(1000, clock);
    h.updated('IPv4');
    h.updated('IPv6');
    h.queuedUpdate('IPv6');
    clock.advance(2000);
    h.updated('IPv4');
    expect(h.status().healthy).toBe(false);
  });
});

describe('HealthzServer', () => {
  it('serves upstream JSON on /healthz and /livez and fails healthz for an ineligible node', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const health = new ProxierHealth(60_000, clock);
    const metrics = new KubeProxyMetrics();
    const server = new HealthzServer({
      bindAddress: '127.0.0.1:0',
      health,
      onResponse: (p, c) => metrics.healthzResponse(p, c),
    });
    const { port } = await server.start();
    closers.push(() => server.close());

    const ok = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json');
    const body = await ok.text();
    expect(body).toBe(
      '{"lastUpdated": "2026-01-01 12:00:00 +0000 UTC","currentTime": "2026-01-01 12:00:00 +0000 UTC", "nodeEligible": true}',
    );
    expect(JSON.parse(body).nodeEligible).toBe(true);

    health.setNodeEligible(false);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(503);
    const live = await fetch(`http://127.0.0.1:${port}/livez`);
    expect(live.status).toBe(200);
    expect(Object.keys(JSON.parse(await live.text()))).toEqual(['lastUpdated', 'currentTime']);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    const text = await metrics.registry.metrics();
    expect(text).toContain('kubeproxy_proxy_healthz_total{code="200"} 1');
    expect(text).toContain('kubeproxy_proxy_healthz_total{code="503"} 1');
    expect(text).toContain('kubeproxy_proxy_livez_total{code="200"} 1');
  });

  it('formats times like Go', () => {
    expect(formatGoTime(Date.UTC(2026, 10, 21, 6, 5, 4, 120))).toBe('2026-11-21 06:05:04.12 +0000 UTC');
  });
});

describe('ServiceHealthServer', () => {
  async function freePort(): Promise<number> {
    const { createServer } = await import('node:net');
    return new Promise((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
  }

  it("keeps a dual-stack kube-proxy's single-family Services served whichever family syncs, each with the larger count", async () => {
    const server = new ServiceHealthServer({ bindAddresses: ['127.0.0.1'] });
    closers.push(() => server.close());
    const v4only = await freePort();
    const both = await freePort();
    await server.syncServices(
      new Map([
        ['default/v4only', v4only],
        ['default/both', both],
      ]),
      'IPv4',
    );
    server.syncEndpoints(
      new Map([
        ['default/v4only', 1],
        ['default/both', 1],
      ]),
      'IPv4',
    );
    // The IPv6 proxier's sync knows only the dual-stack Service: the IPv4-only one stays open.
    await server.syncServices(new Map([['default/both', both]]), 'IPv6');
    server.syncEndpoints(new Map([['default/both', 3]]), 'IPv6');
    expect(server.served()).toEqual(
      new Map([
        ['default/v4only', v4only],
        ['default/both', both],
      ]),
    );
    const weight = async (port: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.text();
      return [res.status, res.headers.get('x-load-balancing-endpoint-weight')];
    };
    expect(await weight(v4only)).toEqual([200, '1']);
    expect(await weight(both)).toEqual([200, '3']);
    // Gone from the IPv4 family too: closed.
    await server.syncServices(new Map([['default/both', both]]), 'IPv4');
    expect(server.served()).toEqual(new Map([['default/both', both]]));
  });

  it('answers 200 with the local endpoint weight only when there are local endpoints', async () => {
    const server = new ServiceHealthServer({ bindAddresses: ['127.0.0.1'] });
    closers.push(() => server.close());
    const port = await freePort();
    await server.syncServices(new Map([['default/web', port]]));
    let res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('x-load-balancing-endpoint-weight')).toBe('0');
    await res.text();

    server.syncEndpoints(new Map([['default/web', 2]]));
    res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-load-balancing-endpoint-weight')).toBe('2');
    expect(await res.json()).toEqual({
      service: { namespace: 'default', name: 'web' },
      localEndpoints: 2,
      serviceProxyHealthy: true,
    });

    await server.syncServices(new Map());
    expect(server.served().size).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('fails every check while the proxier is unhealthy', async () => {
    let healthy = false;
    const server = new ServiceHealthServer({ bindAddresses: ['127.0.0.1'], proxierHealthy: () => healthy });
    closers.push(() => server.close());
    const port = await freePort();
    await server.syncServices(new Map([['ns1/api', port]]));
    server.syncEndpoints(new Map([['ns1/api', 1]]));
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(503);
    healthy = true;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });
});

describe('KubeProxyMetrics', () => {
  it('registers upstream metric names and records syncs per IP family', async () => {
    const m = new KubeProxyMetrics();
    m.observeSync('IPv4', 'full', 0.02, 1_700_000_000_000);
    m.observeSync('IPv4', 'partial', 0.005, 1_700_000_001_000);
    m.observeNetworkProgramming('IPv4', [1_700_000_000_000], 1_700_000_001_500);
    const text = await m.registry.metrics();
    for (const name of [
      'kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 2',
      'kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1',
      'kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1700000001',
      'kubeproxy_network_programming_duration_seconds_sum{ip_family="IPv4"} 1.5',
      'kubeproxy_sync_proxy_rules_endpoint_changes_total 0',
    ]) {
      expect(text).toContain(name);
    }
    // Like upstream's vectors: a family's failure counter has no sample until it counts one.
    expect(text).not.toMatch(/^kubeproxy_sync_proxy_rules_iptables_restore_failures_total/m);
  });

  it("keeps a dual-stack node's IPv4 and IPv6 syncs in series of their own", async () => {
    const m = new KubeProxyMetrics();
    m.observeSync('IPv4', 'full', 8, 1_700_000_010_000);
    m.observeSync('IPv6', 'full', 0.001, 1_700_000_000_000);
    const text = await m.registry.metrics();
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 8');
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv6"} 0.001');
    expect(text).toContain('kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1700000010');
    expect(text).toContain('kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv6"} 1700000000');
  });
});
