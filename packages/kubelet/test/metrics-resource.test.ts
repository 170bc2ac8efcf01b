import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goFloat } from '../src/metrics-collectors/exposition-text';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import type { SummaryProvider } from '../src/stats/summary-provider';
import type { Summary } from '../src/stats/summary-types';
import { type EngineHarness, startEngine } from './helpers/engine';
import { openServerOptions } from './helpers/open-kubelet-server';

const at = '2025-06-23T19:09:34.670Z';
const summary: Summary = {
  node: {
    nodeName: 'node-a',
    startTime: '2025-06-22T00:00:00Z',
    cpu: { time: at, usageCoreNanoSeconds: 6197005020909 },
    memory: { time: at, workingSetBytes: 1137475584 },
  },
  pods: [
    {
      podRef: { name: 'web', namespace: 'default', uid: 'u1' },
      startTime: '2025-06-22T01:00:00Z',
      cpu: { time: at, usageCoreNanoSeconds: 14972143397 },
      memory: { time: at, workingSetBytes: 3555328 },
      containers: [
        {
          name: 'app',
          startTime: '2025-06-22T01:00:01Z',
          cpu: { time: at, usageCoreNanoSeconds: 14000000000 },
          memory: { time: at, workingSetBytes: 3000000 },
        },
        // Stats not in yet (just started): only its start time.
        { name: 'sidecar', startTime: '2025-06-22T01:00:02Z' },
      ],
    },
  ],
};

let h: EngineHarness;
let server: RunningServer;
let failing: RunningServer;

const provider = (get: () => Promise<Summary>): SummaryProvider =>
  ({ summary: get, nodeStats: async () => summary.node }) as unknown as SummaryProvider;

beforeAll(async () => {
  h = await startEngine();
  const options = openServerOptions(h);
  server = await listen(
    createKubeletServer({ ...options, summary: provider(async () => summary) }),
    0,
    '127.0.0.1',
  );
  failing = await listen(
    createKubeletServer({
      ...options,
      summary: provider(async () => {
        throw new Error('runtime not reachable');
      }),
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  await server?.close();
  await failing?.close();
  await h?.close();
});

/** Text exposition → { 'name{labels}': [value, timestamp] }, the way a scraper reads it. */
function parseExposition(text: string): Map<string, { value: number; timestampMs?: number }> {
  const samples = new Map<string, { value: number; timestampMs?: number }>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)(?: (\d+))?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    samples.set(match[1]!, {
      value: Number(match[2]),
      timestampMs: match[3] === undefined ? undefined : Number(match[3]),
    });
  }
  return samples;
}

describe('/metrics/resource', () => {
  it("serves upstream's series, labels, HELP and timestamps from the summary stats", async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics/resource`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const stamp = Date.parse(at);
    expect(await response.text()).toBe(
      [
        '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
        '# TYPE container_cpu_usage_seconds_total counter',
        `container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 14 ${stamp}`,
        '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
        '# TYPE container_memory_working_set_bytes gauge',
        `container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 3e+06 ${stamp}`,
        '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
        '# TYPE container_start_time_seconds gauge',
        'container_start_time_seconds{container="app",namespace="default",pod="web"} 1.750554001e+09',
        'container_start_time_seconds{container="sidecar",namespace="default",pod="web"} 1.750554002e+09',
        '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
        '# TYPE node_cpu_usage_seconds_total counter',
        `node_cpu_usage_seconds_total 6197.005020909 ${stamp}`,
        '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
        '# TYPE node_memory_working_set_bytes gauge',
        `node_memory_working_set_bytes 1.137475584e+09 ${stamp}`,
        '# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds',
        '# TYPE pod_cpu_usage_seconds_total counter',
        `pod_cpu_usage_seconds_total{namespace="default",pod="web"} 14.972143397 ${stamp}`,
        '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
        '# TYPE pod_memory_working_set_bytes gauge',
        `pod_memory_working_set_bytes{namespace="default",pod="web"} 3.555328e+06 ${stamp}`,
        '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
        '# TYPE resource_scrape_error gauge',
        'resource_scrape_error 0',
        '',
      ].join('\n'),
    );
  });

  it('parses back to the stats it came from', async () => {
    const samples = parseExposition(
      await (await fetch(`http://127.0.0.1:${server.port}/metrics/resource`)).text(),
    );
    expect(samples.get('node_memory_working_set_bytes')).toEqual({
      value: 1137475584,
      timestampMs: Date.parse(at),
    });
    expect(samples.get('pod_memory_working_set_bytes{namespace="default",pod="web"}')?.value).toBe(3555328);
    expect(
      samples.get('container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"}')?.value,
    ).toBe(14);
  });

  it('reports resource_scrape_error 1 and nothing else when the stats cannot be had', async () => {
    const text = await (await fetch(`http://127.0.0.1:${failing.port}/metrics/resource`)).text();
    expect([...parseExposition(text)]).toEqual([
      ['resource_scrape_error', { value: 1, timestampMs: undefined }],
    ]);
  });

  it('writes floats as client_golang does', () => {
    expect(
      [0, 1, 14, 0.5, 6197.005020909, 999999, 1e6, 3555328, 1750607840.1348257, 0.0001, 0.00001, -2.5e7].map(
        goFloat,
      ),
    ).toEqual([
      '0',
      '1',
      '14',
      '0.5',
      '6197.005020909',
      '999999',
      '1e+06',
      '3.555328e+06',
      '1.7506078401348257e+09',
      '0.0001',
      '1e-05',
      '-2.5e+07',
    ]);
  });
});
