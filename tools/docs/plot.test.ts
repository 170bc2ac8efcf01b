import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs scripts without declarations
import { kubeletStartupCharts, kubeProxyScaleCharts } from './plot.mjs';
// @ts-expect-error: plain .mjs scripts without declarations
import { barChart, formatValue } from './svg-bar-chart.mjs';

const script = fileURLToPath(new URL('./plot.mjs', import.meta.url));

/** One run of bench-results/kube-proxy-scale.json, the fields the plots read. */
const run = {
  mode: 'nftables',
  services: 5000,
  endpointsPerService: 50,
  execToFirstSyncDoneMs: 1590,
  floor: { totalMs: 4620 },
  rssMB: { steady: 122.5, peak: 239 },
  endpointChange: { count: 100, p50Ms: 2, p99Ms: 5, maxMs: 9 },
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The printed values of an SVG's bars, in order. */
function widths(svg: string): number[] {
  return [...svg.matchAll(/<rect x="250" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
}

describe('plot: SVG from bench results', () => {
  it("draws the scale bench's first sync beside its floor and upstream's range, bars to scale", () => {
    const svg = kubeProxyScaleCharts({ runs: [run] })['kube-proxy-first-sync.svg'] as string;
    expect(svg).toContain('nftables, 5,000 Services × 50 endpoints');
    expect(svg).toContain('1.59 s');
    expect(svg).toContain('4.62 s');
    expect(svg).toContain('8.4–9.7 s');
    const [ours, floor, upstream] = widths(svg);
    expect(upstream).toBeGreaterThan(floor as number);
    expect((ours as number) / (upstream as number)).toBeCloseTo(1.59 / 9.7, 2);
  });

  it('draws memory and the endpoint change from the same run', () => {
    const charts = kubeProxyScaleCharts({ runs: [run] });
    expect(charts['kube-proxy-memory.svg']).toContain('374–389 MB');
    expect(charts['kube-proxy-endpoint-change.svg']).toMatch(/p99.*\n.*\n.*5 ms/);
  });

  it("draws the kubelet start-up bench's medians beside upstream's ranges and the floor", () => {
    const charts = kubeletStartupCharts({
      medians: { '/tmp/k': { firstLogMs: 79, startedMs: 203, staticPodRunningMs: 381, cpuFirst10sS: 0.4 } },
      floor: { cpuFirst10sS: 0.08 },
    });
    expect(charts['kubelet-startup.svg']).toContain('381 ms');
    expect(charts['kubelet-startup.svg']).toContain('1000–2400 ms');
    expect(widths(charts['kubelet-startup-cpu.svg'] as string)).toHaveLength(3);
  });

  it('refuses a bar of an unknown kind and a chart without bars', () => {
    expect(() =>
      barChart({
        title: 't',
        unit: 's',
        groups: [{ label: 'g', bars: [{ label: 'b', value: 1, kind: 'x' }] }],
      }),
    ).toThrow(/unknown bar kind x/);
    expect(() => barChart({ title: 't', unit: 's', groups: [] })).toThrow(/no bars/);
    expect(formatValue(1234.4, 'MB')).toBe('1,234 MB');
  });

  it('redraws the SVG files from a results directory, and fails naming the bench when there is none', () => {
    dir = mkdtempSync(join(tmpdir(), `na-plot-${process.pid}-`));
    const results = join(dir, 'bench-results');
    const out = join(dir, 'plots');
    mkdirSync(results);
    const empty = spawnSync(process.execPath, [script, '--results', results, '--out', out], {
      encoding: 'utf8',
    });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('npm run bench -- kube-proxy-scale');
    writeFileSync(join(results, 'kube-proxy-scale.json'), JSON.stringify({ runs: [run] }));
    const drawn = spawnSync(process.execPath, [script, '--results', results, '--out', out], {
      encoding: 'utf8',
    });
    expect(drawn.status, drawn.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'kube-proxy-endpoint-change.svg',
      'kube-proxy-first-sync.svg',
      'kube-proxy-memory.svg',
    ]);
    expect(readFileSync(join(out, 'kube-proxy-first-sync.svg'), 'utf8')).toMatch(/^<svg xmlns=/);
  });
});
