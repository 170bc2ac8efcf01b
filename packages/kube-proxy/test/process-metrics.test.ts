import perfHooks from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubeProxyMetrics, MetricsServer } from '../src/index';
import { addressSpaceLimit, collectProcessMetrics, ipExtOctets } from '../src/runtime/process-metrics';

// Upstream kube-proxy's /metrics: client_golang's process collector (Linux), names and HELP texts.
const UPSTREAM_PROCESS_METRICS: [name: string, type: string, help: string][] = [
  ['process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.'],
  ['process_max_fds', 'gauge', 'Maximum number of open file descriptors.'],
  ['process_open_fds', 'gauge', 'Number of open file descriptors.'],
  ['process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.'],
  ['process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.'],
  ['process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.'],
  ['process_virtual_memory_max_bytes', 'gauge', 'Maximum amount of virtual memory available in bytes.'],
  [
    'process_network_receive_bytes_total',
    'counter',
    'Number of bytes received by the process over the network.',
  ],
  [
    'process_network_transmit_bytes_total',
    'counter',
    'Number of bytes sent by the process over the network.',
  ],
];

const FIXTURE = fileURLToPath(new URL('./fixtures/proc-self', import.meta.url));

/** The value of an unlabelled series in Prometheus text. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in the exposition`);
  return Number(line.slice(name.length + 1));
}

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  vi.restoreAllMocks();
});

/** collectProcessMetrics on `registry`, its event-loop monitor disabled when the test ends. */
function collect(registry: KubeProxyMetrics['registry'], procDir?: string): void {
  const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay');
  monitor.mockClear();
  collectProcessMetrics(registry, procDir);
  expect(monitor).toHaveBeenCalledTimes(1);
  // Once a second, not prom-client's default 10 ms timer.
  expect(monitor.mock.calls[0]?.[0]).toEqual({ resolution: 1000 });
  const created = monitor.mock.results[0]?.value as { disable(): void } | undefined;
  closers.push(() => created?.disable());
}

describe('kube-proxy process metrics', () => {
  it("serves upstream's process_* series on /metrics with upstream's names, types and HELP texts", async () => {
    const metrics = new KubeProxyMetrics();
    collect(metrics.registry, FIXTURE);
    const server = new MetricsServer('127.0.0.1:0', metrics, 'nftables');
    closers.push(() => server.close());
    const { port } = await server.start();
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const [name, type, help] of UPSTREAM_PROCESS_METRICS) {
      expect(text).toContain(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    }
    // From the fixture's limits (unlimited: uint64 max, as client_golang prints it) and netstat.
    expect(sample(text, 'process_virtual_memory_max_bytes')).toBe(1.8446744073709552e19);
    expect(sample(text, 'process_network_receive_bytes_total')).toBe(574490583);
    expect(sample(text, 'process_network_transmit_bytes_total')).toBe(131589537);
    // This process's own figures.
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(sample(text, 'process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    expect(sample(text, 'process_open_fds')).toBeGreaterThan(2);
    // The proxier metrics are still there beside them.
    expect(text).toContain('# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram');
  });

  it('reads the real /proc by default and leaves the series at 0 where procfs has no file', async () => {
    const real = new KubeProxyMetrics();
    collect(real.registry);
    const text = await real.registry.metrics();
    expect(sample(text, 'process_virtual_memory_max_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'process_network_receive_bytes_total')).toBeGreaterThanOrEqual(0);
    const missing = new KubeProxyMetrics();
    collect(missing.registry, '/nonexistent-proc-dir');
    const none = await missing.registry.metrics();
    expect(sample(none, 'process_virtual_memory_max_bytes')).toBe(0);
    expect(sample(none, 'process_network_transmit_bytes_total')).toBe(0);
  });

  it('parses /proc/self/limits and /proc/self/net/netstat as procfs does', () => {
    expect(
      addressSpaceLimit('Max address space         4294967296           unlimited            bytes'),
    ).toBe(4294967296);
    expect(
      addressSpaceLimit('Max address space         unlimited            unlimited            bytes'),
    ).toBe(2 ** 64);
    expect(addressSpaceLimit('Max open files 1024 1024 files')).toBeUndefined();
    expect(ipExtOctets('IpExt: InOctets OutOctets\nIpExt: 10 20\n')).toEqual({ in: 10, out: 20 });
    expect(ipExtOctets('TcpExt: A\nTcpExt: 1\n')).toBeUndefined();
    expect(ipExtOctets('IpExt: InOctets OutOctets\nIpExt: x 20\n')).toBeUndefined();
  });
});
