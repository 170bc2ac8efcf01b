import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { createKubeletServer, listen, type RunningServer } from '../../src/server/kubelet-server';
import { alwaysAllow, kubeletAuthenticator } from '../../src/server/server-auth';
import { CriSummaryProvider } from '../../src/stats/summary-provider';
import { type NodeHarness, startNodeHarness } from './node-harness';

/**
 * /metrics/resource on a real containerd, read the way metrics-server reads it for `kubectl top`:
 * two scrapes, CPU as the rate between the samples' timestamps, memory as the working set.
 * /metrics/cadvisor is read the same way, as Prometheus' rate() over cAdvisor's series would.
 */
let node: NodeHarness;
let server: RunningServer;

beforeAll(async () => {
  node = await startNodeHarness();
  const summary = new CriSummaryProvider({
    nodeName: node.nodeName,
    rootDir: join(node.dir, 'root'),
    podLogsDir: join(node.dir, 'logs'),
    cri: node.client,
  });
  server = await listen(
    createKubeletServer({
      kubelet: node.kubelet,
      nodeName: node.nodeName,
      podLogsDir: join(node.dir, 'logs'),
      summary,
      authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
      authorize: alwaysAllow,
    }),
    0,
    '127.0.0.1',
  );
}, 180_000);

afterAll(async () => {
  await server?.close();
  await node?.stop();
}, 120_000);

type Scrape = Map<string, { value: number; timestampMs?: number }>;

async function scrape(path = '/metrics/resource'): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}${path}`)).text();
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [series, value, stamp] = line.split(' ') as [string, string, string | undefined];
    samples.set(series, {
      value: Number(value),
      timestampMs: stamp === undefined ? undefined : Number(stamp),
    });
  }
  return samples;
}

/** millicores between two scrapes of a cumulative CPU series, as metrics-server computes it. */
function milliCores(before: Scrape, after: Scrape, series: string): number {
  const a = before.get(series)!;
  const b = after.get(series)!;
  return ((b.value - a.value) / ((b.timestampMs! - a.timestampMs!) / 1000)) * 1000;
}

describe('/metrics/resource on a real containerd', { timeout: 180_000 }, () => {
  it('gives kubectl top (and /metrics/cadvisor) non-zero CPU and memory for a busy container, near-zero CPU for an idle one', async () => {
    for (const [name, script] of [
      ['busy', 'while true; do :; done'],
      ['idle', 'sleep 3600'],
    ] as const) {
      node.createPod({
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: node.busybox, command: ['/bin/sh', '-c', script] }],
        },
      });
    }
    for (const name of ['busy', 'idle'])
      await node.waitPod(name, 'Running', (p: Pod) => (p.status?.phase === 'Running' ? p : undefined));
    const container = (pod: string) => `{container="main",namespace="default",pod="${pod}"}`;
    // Stats appear once the runtime has sampled the containers.
    let before = await scrape();
    for (let i = 0; i < 50 && !before.has(`container_cpu_usage_seconds_total${container('busy')}`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      before = await scrape();
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await scrape();

    expect(after.get('resource_scrape_error')?.value).toBe(0);
    const busyCpu = milliCores(before, after, `container_cpu_usage_seconds_total${container('busy')}`);
    const idleCpu = milliCores(before, after, `container_cpu_usage_seconds_total${container('idle')}`);
    const busyPodCpu = milliCores(
      before,
      after,
      'pod_cpu_usage_seconds_total{namespace="default",pod="busy"}',
    );
    const nodeCpu = milliCores(before, after, 'node_cpu_usage_seconds_total');
    // A shell spinning on one of two (shared, busy) cores: far above an idle sleep.
    expect(busyCpu).toBeGreaterThan(50);
    expect(idleCpu).toBeLessThan(busyCpu / 5);
    expect(busyPodCpu).toBeGreaterThanOrEqual(busyCpu * 0.5);
    expect(nodeCpu).toBeGreaterThan(busyCpu * 0.5);
    for (const series of [
      `container_memory_working_set_bytes${container('busy')}`,
      'pod_memory_working_set_bytes{namespace="default",pod="busy"}',
      'node_memory_working_set_bytes',
    ])
      expect(after.get(series)?.value).toBeGreaterThan(0);
    const started = after.get(`container_start_time_seconds${container('busy')}`)?.value ?? 0;
    expect(Math.abs(started - Date.now() / 1000)).toBeLessThan(600);

    // The same containers through /metrics/cadvisor, scraped twice as Prometheus would.
    const cadvisorBefore = await scrape('/metrics/cadvisor');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const cadvisorAfter = await scrape('/metrics/cadvisor');
    const series = (metric: string, pod: string, container: string) =>
      [...cadvisorAfter.keys()].find(
        (key) =>
          key.startsWith(`${metric}{`) &&
          key.includes(`container="${container}"`) &&
          key.includes(`pod="${pod}"`),
      ) ?? `${metric} for ${pod}/${container} not served`;
    expect(cadvisorAfter.get('container_scrape_error')?.value).toBe(0);
    const cpuSeries = series('container_cpu_usage_seconds_total', 'busy', 'main');
    // The runtime's container ID and image from the kubelet's runtime cache; no cgroup path.
    expect(cpuSeries).toMatch(/cpu="total",id="",image="[^"]+",name="[0-9a-f]{64}",namespace="default"/);
    const cadvisorBusyCpu = milliCores(cadvisorBefore, cadvisorAfter, cpuSeries);
    expect(cadvisorBusyCpu).toBeGreaterThan(50);
    const podCpuSeries = series('container_cpu_usage_seconds_total', 'busy', '');
    expect(podCpuSeries).toContain('image="",name=""');
    expect(milliCores(cadvisorBefore, cadvisorAfter, podCpuSeries)).toBeGreaterThanOrEqual(
      cadvisorBusyCpu * 0.5,
    );
    for (const metric of ['container_memory_working_set_bytes', 'container_memory_usage_bytes'])
      expect(cadvisorAfter.get(series(metric, 'busy', 'main'))?.value).toBeGreaterThan(0);
    const cadvisorStart =
      cadvisorAfter.get(series('container_start_time_seconds', 'busy', 'main'))?.value ?? 0;
    expect(Math.abs(cadvisorStart - started)).toBeLessThan(1);
    const lastSeen = series('container_last_seen', 'idle', 'main');
    expect(cadvisorAfter.get(lastSeen)?.timestampMs).toBeGreaterThan(
      cadvisorBefore.get(lastSeen)!.timestampMs!,
    );
    console.log(`/metrics/cadvisor: busy ${Math.round(cadvisorBusyCpu)}m`);
    console.log(
      `kubectl top: busy ${Math.round(busyCpu)}m ${after.get(`container_memory_working_set_bytes${container('busy')}`)?.value} bytes, idle ${Math.round(idleCpu)}m, node ${Math.round(nodeCpu)}m`,
    );
  });
});
