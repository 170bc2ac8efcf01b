import perfHooks from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectProcessMetrics } from '../src/metrics';

describe('collectProcessMetrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it("samples the event loop once a second, not prom-client's default every 10 ms (an idle kubelet's wake-ups)", async () => {
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay');
    const registry = new Registry();
    collectProcessMetrics(registry);
    expect(monitor).toHaveBeenCalledTimes(1);
    expect(monitor.mock.calls[0]?.[0]).toEqual({ resolution: 1000 });
    const text = await registry.metrics();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
    ])
      expect(text).toContain(`# TYPE ${name}`);
    (monitor.mock.results[0]?.value as { disable(): void } | undefined)?.disable();
  });
});
