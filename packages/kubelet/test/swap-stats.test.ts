import { describe, expect, it } from 'vitest';
import { renderExposition } from '../src/metrics-collectors/exposition-text';
import { resourceMetricFamilies } from '../src/metrics-collectors/resource-metrics';
import { cpuAndMemoryOnly } from '../src/server/summary-filter';
import { nodeSwapFromMeminfo } from '../src/stats/proc-meminfo';
import type { Summary } from '../src/stats/summary-types';

const at = '2025-06-23T19:09:34.670Z';
const later = '2025-06-23T19:09:35.000Z';
const stamp = Date.parse(at);

function summaryWith(swap: boolean): Summary {
  return {
    node: {
      nodeName: 'node-a',
      startTime: '2025-06-22T00:00:00Z',
      memory: { time: at, workingSetBytes: 1000 },
      ...(swap ? { swap: { time: later, swapAvailableBytes: 3 * 2 ** 30, swapUsageBytes: 2 ** 30 } } : {}),
    },
    pods: [
      {
        podRef: { name: 'web', namespace: 'default', uid: 'u1' },
        startTime: '2025-06-22T01:00:00Z',
        ...(swap ? { swap: { time: at, swapUsageBytes: 4096 } } : {}),
        containers: [
          {
            name: 'app',
            startTime: '2025-06-22T01:00:01Z',
            ...(swap ? { swap: { time: at, swapUsageBytes: 2048, swapAvailableBytes: 100 } } : {}),
          },
        ],
      },
    ],
  };
}

describe('node swap stats (/stats/summary node.swap)', () => {
  it('is SwapTotal − SwapFree used and SwapFree available; 0 and 0 without swap', () => {
    expect(nodeSwapFromMeminfo('MemTotal: 100 kB\nSwapTotal:  4194304 kB\nSwapFree:   3145728 kB\n')).toEqual(
      {
        usageBytes: 2 ** 30,
        availableBytes: 3 * 2 ** 30,
      },
    );
    expect(nodeSwapFromMeminfo('MemTotal: 100 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n')).toEqual({
      usageBytes: 0,
      availableBytes: 0,
    });
  });

  it('survives only_cpu_and_memory, as upstream GetCPUAndMemoryStats keeps swap', () => {
    const slim = cpuAndMemoryOnly(summaryWith(true));
    expect(slim.node.swap).toEqual({ time: later, swapAvailableBytes: 3 * 2 ** 30, swapUsageBytes: 2 ** 30 });
    expect(slim.pods[0]?.swap?.swapUsageBytes).toBe(4096);
    expect(slim.pods[0]?.containers[0]?.swap?.swapUsageBytes).toBe(2048);
  });
});

describe('swap series on /metrics/resource (upstream resource metrics collector)', () => {
  it("serves node, container and pod swap usage ([ALPHA]); the node's stamped with the memory time", () => {
    const text = renderExposition(resourceMetricFamilies(summaryWith(true)));
    const lines = text.split('\n');
    for (const expected of [
      '# HELP node_swap_usage_bytes [ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems',
      '# TYPE node_swap_usage_bytes gauge',
      `node_swap_usage_bytes 1.073741824e+09 ${stamp}`,
      '# HELP container_swap_usage_bytes [ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems',
      `container_swap_usage_bytes{container="app",namespace="default",pod="web"} 2048 ${stamp}`,
      '# HELP pod_swap_usage_bytes [ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems',
      `pod_swap_usage_bytes{namespace="default",pod="web"} 4096 ${stamp}`,
    ])
      expect(lines).toContain(expected);
  });

  it('serves no swap family when the stats have no swap', () => {
    expect(renderExposition(resourceMetricFamilies(summaryWith(false)))).not.toContain('swap');
  });
});
