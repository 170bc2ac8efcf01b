import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cadvisorMetricFamilies } from '../src/metrics-collectors/cadvisor-metrics';
import { renderExposition } from '../src/metrics-collectors/exposition-text';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import type { SummaryProvider } from '../src/stats/summary-provider';
import type { Summary } from '../src/stats/summary-types';
import { type EngineHarness, startEngine } from './helpers/engine';
import { openServerOptions } from './helpers/open-kubelet-server';

const at = '2025-06-23T19:09:34.670Z';
const summary: Summary = {
  node: { nodeName: 'node-a', startTime: '2025-06-22T00:00:00Z' },
  pods: [
    {
      podRef: { name: 'web', namespace: 'default', uid: 'u1' },
      startTime: '2025-06-22T01:00:00Z',
      cpu: { time: at, usageCoreNanoSeconds: 14972143397 },
      memory: { time: at, workingSetBytes: 3555328, usageBytes: 4000000 },
      containers: [
        {
          name: 'app',
          startTime: '2025-06-22T01:00:01Z',
          cpu: { time: at, usageCoreNanoSeconds: 14000000000 },
          memory: { time: at, workingSetBytes: 3000000, usageBytes: 3500000, rssBytes: 2500000 },
          rootfs: { time: at, usedBytes: 40960, capacityBytes: 107374182400 },
        },
        // Stats not in yet (just started): only its start time and last-seen.
        { name: 'sidecar', startTime: '2025-06-22T01:00:02Z' },
      ],
    },
  ],
};

/** cAdvisor's base labels (plus an extra one such as cpu or device), names sorted as client_golang writes them. */
const base = (container: string, extra = '') =>
  `container="${container}",${extra}id="",image="",name="",namespace="default",pod="web"`;
/** The root cgroup's row: cAdvisor's `/`, the node's stats. */
const root = 'container="",id="/",image="",name="",namespace="",pod=""';

describe('cadvisorMetricFamilies', () => {
  it("renders cAdvisor's series, HELP/TYPE, labels and timestamps from the summary", () => {
    const now = Date.parse('2025-06-23T19:10:00.250Z');
    const stamp = Date.parse(at);
    // Without PressureMetrics (a kernel without PSI): no container_pressure_* families.
    expect(renderExposition(cadvisorMetricFamilies(summary, now, undefined, false))).toBe(
      [
        '# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.',
        '# TYPE container_cpu_usage_seconds_total counter',
        `container_cpu_usage_seconds_total{${base('', 'cpu="total",')}} 14.972143397 ${stamp}`,
        `container_cpu_usage_seconds_total{${base('app', 'cpu="total",')}} 14 ${stamp}`,
        '# HELP container_fs_limit_bytes Number of bytes that can be consumed by the container on this filesystem.',
        '# TYPE container_fs_limit_bytes gauge',
        `container_fs_limit_bytes{${base('app', 'device="",')}} 1.073741824e+11 ${stamp}`,
        '# HELP container_fs_usage_bytes Number of bytes that are consumed by the container on this filesystem.',
        '# TYPE container_fs_usage_bytes gauge',
        `container_fs_usage_bytes{${base('app', 'device="",')}} 40960 ${stamp}`,
        '# HELP container_last_seen Last time a container was seen by the exporter',
        '# TYPE container_last_seen gauge',
        `container_last_seen{${base('')}} 1.7507058e+09 ${now}`,
        `container_last_seen{${root}} 1.7507058e+09 ${now}`,
        `container_last_seen{${base('app')}} 1.7507058e+09 ${now}`,
        `container_last_seen{${base('sidecar')}} 1.7507058e+09 ${now}`,
        '# HELP container_memory_rss Size of RSS in bytes.',
        '# TYPE container_memory_rss gauge',
        `container_memory_rss{${base('app')}} 2.5e+06 ${stamp}`,
        '# HELP container_memory_usage_bytes Current memory usage in bytes, including all memory regardless of when it was accessed',
        '# TYPE container_memory_usage_bytes gauge',
        `container_memory_usage_bytes{${base('')}} 4e+06 ${stamp}`,
        `container_memory_usage_bytes{${base('app')}} 3.5e+06 ${stamp}`,
        '# HELP container_memory_working_set_bytes Current working set in bytes.',
        '# TYPE container_memory_working_set_bytes gauge',
        `container_memory_working_set_bytes{${base('')}} 3.555328e+06 ${stamp}`,
        `container_memory_working_set_bytes{${base('app')}} 3e+06 ${stamp}`,
        '# HELP container_scrape_error 1 if there was an error while getting container metrics, 0 otherwise',
        '# TYPE container_scrape_error gauge',
        'container_scrape_error 0',
        '# HELP container_start_time_seconds Start time of the container since unix epoch in seconds.',
        '# TYPE container_start_time_seconds gauge',
        `container_start_time_seconds{${base('')}} 1.750554e+09`,
        `container_start_time_seconds{${root}} 1.7505504e+09`,
        `container_start_time_seconds{${base('app')}} 1.750554001e+09`,
        `container_start_time_seconds{${base('sidecar')}} 1.750554002e+09`,
        '',
      ].join('\n'),
    );
  });

  it("labels a container with the runtime's container ID and image when the runtime cache knows it", () => {
    const families = cadvisorMetricFamilies(
      summary,
      0,
      (pod, container) =>
        pod.uid === 'u1' && container === 'app'
          ? { id: 'c0ffee', image: 'docker.io/library/nginx:1.27' }
          : undefined,
      false,
    );
    const workingSet = families.find((f) => f.desc.name === 'container_memory_working_set_bytes')!;
    expect(workingSet.samples.map((s) => s.labels)).toEqual([
      {
        container: 'app',
        id: '',
        image: 'docker.io/library/nginx:1.27',
        name: 'c0ffee',
        namespace: 'default',
        pod: 'web',
      },
      // The pod row keeps name and image blank: a cgroup, not a container.
      { container: '', id: '', image: '', name: '', namespace: 'default', pod: 'web' },
    ]);
  });

  it('reports container_scrape_error 1 and nothing else when the stats cannot be had', () => {
    expect(renderExposition(cadvisorMetricFamilies(undefined, 0, undefined, true))).toBe(
      [
        '# HELP container_scrape_error 1 if there was an error while getting container metrics, 0 otherwise',
        '# TYPE container_scrape_error gauge',
        'container_scrape_error 1',
        '',
      ].join('\n'),
    );
  });
});

let h: EngineHarness;
let server: RunningServer;

beforeAll(async () => {
  h = await startEngine();
  server = await listen(
    createKubeletServer({
      ...openServerOptions(h),
      summary: {
        summary: async () => summary,
        nodeStats: async () => summary.node,
      } as unknown as SummaryProvider,
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  await server?.close();
  await h?.close();
});

interface Parsed {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: { name: string; labels: Record<string, string>; value: number; timestampMs?: number }[];
}

/** The exposition read the way a scraper reads it: HELP/TYPE per family, samples with labels. */
function parseExposition(text: string): Parsed {
  const parsed: Parsed = { help: new Map(), type: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-z_]+) (.*)$/.exec(line);
    if (meta) {
      parsed[meta[1] === 'HELP' ? 'help' : 'type'].set(meta[2]!, meta[3]!);
      continue;
    }
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)(?: (\d+))?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    parsed.samples.push({
      name: match[1]!,
      labels,
      value: Number(match[3]),
      timestampMs: match[4] === undefined ? undefined : Number(match[4]),
    });
  }
  return parsed;
}

describe('/metrics/cadvisor', () => {
  it('is served from the summary stats with every family typed and labelled alike', async () => {
    const before = Date.now();
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics/cadvisor`);
    const after = Date.now();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const parsed = parseExposition(await response.text());
    expect(parsed.type.get('container_cpu_usage_seconds_total')).toBe('counter');
    expect(parsed.help.get('container_memory_working_set_bytes')).toBe('Current working set in bytes.');
    for (const sample of parsed.samples) {
      if (sample.name === 'container_scrape_error') continue;
      // Prometheus needs one label set per family: cAdvisor's base labels on every row.
      expect(Object.keys(sample.labels)).toEqual(
        expect.arrayContaining(['container', 'id', 'image', 'name', 'namespace', 'pod']),
      );
    }
    const cpu = parsed.samples.find(
      (s) => s.name === 'container_cpu_usage_seconds_total' && s.labels.container === 'app',
    );
    expect(cpu).toMatchObject({
      value: 14,
      timestampMs: Date.parse(at),
      labels: { cpu: 'total', pod: 'web' },
    });
    const lastSeen = parsed.samples.filter((s) => s.name === 'container_last_seen');
    // The root cgroup, the pod and its two containers.
    expect(lastSeen.map((s) => `${s.labels.id}${s.labels.container}`).sort()).toEqual([
      '',
      '/',
      'app',
      'sidecar',
    ]);
    for (const sample of lastSeen) {
      expect(sample.timestampMs).toBeGreaterThanOrEqual(before);
      expect(sample.timestampMs).toBeLessThanOrEqual(after);
      expect(sample.value).toBe(Math.floor(sample.timestampMs! / 1000));
    }
  });
});
