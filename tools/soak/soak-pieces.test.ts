import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile, readHistogram } from './histogram-delta';
import { leakFit } from './leak-fit';
import { OptTraceTally, optTallySince } from './opt-trace';
import { plotSeries } from './svg-plot';
import { unitStart, withNofile } from './unit-start';

const METRICS = (
  n: number,
  sum: number,
) => `# HELP kubeproxy_sync_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in seconds
# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.001"} 0
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.01"} ${n / 2}
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.1"} ${n}
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="+Inf"} ${n}
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv4"} ${sum}
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} ${n}
kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv6",le="+Inf"} 99
kubeproxy_sync_proxy_rules_duration_seconds_sum{ip_family="IPv6"} 1
kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv6"} 99
`;

describe('Prometheus histograms between scrapes', () => {
  it('reads one family, subtracts an earlier scrape and interpolates quantiles as histogram_quantile', () => {
    const name = 'kubeproxy_sync_proxy_rules_duration_seconds';
    const earlier = readHistogram(METRICS(10, 0.2), name, 'ip_family="IPv4"');
    const later = readHistogram(METRICS(30, 1.0), name, 'ip_family="IPv4"');
    expect(later?.count).toBe(30);
    const d = histogramDelta(later!, earlier);
    expect(d.count).toBe(20);
    expect(d.sum).toBeCloseTo(0.8);
    // 10 of 20 at or below 10 ms: the median is the bucket's top; p99 lies in (0.01, 0.1].
    expect(histogramQuantile(d, 0.5)).toBeCloseTo(0.01);
    expect(histogramQuantile(d, 0.99)).toBeCloseTo(0.01 + (0.09 * (19.8 - 10)) / 10);
    expect(
      histogramQuantile(
        {
          buckets: [
            [1, 0],
            [Number.POSITIVE_INFINITY, 0],
          ],
          sum: 0,
          count: 0,
        },
        0.5,
      ),
    ).toBeUndefined();
    expect(readHistogram('nothing 1\n', name)).toBeUndefined();
  });
});

describe('leakFit', () => {
  const flat = Array.from({ length: 40 }, (_, i) => [21 + i, 100 + ((i * 7) % 5) - 2] as [number, number]);
  it('passes a flat series with a sawtooth and a step of a relist', () => {
    const withStep = flat.map(([x, y]) => [x, y + (x === 40 ? 6 : 0)] as [number, number]);
    expect(leakFit(flat).leak).toBe(false);
    expect(leakFit(withStep).leak).toBe(false);
  });
  it('fails a steady rise of 0.2 MiB a minute under the same noise', () => {
    const rising = flat.map(([x, y]) => [x, y + 0.2 * (x - 21)] as [number, number]);
    const fit = leakFit(rising);
    expect(fit.slopeMiBPerMin).toBeGreaterThan(0.15);
    expect(fit.riseMiB).toBeGreaterThan(6);
    expect(fit.leak).toBe(true);
  });
  it('refuses too few samples', () => {
    expect(() =>
      leakFit([
        [1, 1],
        [2, 2],
      ]),
    ).toThrow(/at least 3/);
  });
});

describe("V8's --trace-opt and --trace-deopt lines", () => {
  // As Node 24's V8 prints them; the last is an eager deoptimisation's first line.
  const compiled = (fn: string, sfi: string, tier: string) =>
    `[completed compiling 0x27ccb46e9831 <JSFunction ${fn}(sfi = ${sfi})> (target ${tier}) - took 0.000, 0.420, 0.011 ms]\n`;
  const invalidated =
    '[marking dependent code 0x27ccb46e9831 <Code MAGLEV> (0x23293cd03661 <SharedFunctionInfo spamKey>) (opt id 1137) for deoptimization, reason: dependent field type changed]\n';
  const bailout =
    '[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x3b0060b875d9 <JSFunction _read (sfi = 0x3b0060b86f89)>, 0x27ccb46f6da9 <Code MAGLEV>, opt id 1503, bytecode offset 0, deopt exit 1, FP to SP delta 32, caller SP 0x7ffd20e13db0, pc 0x7ff0224258e9]\n';

  it('counts compilations by tier, deoptimisations and invalidations by reason, across split chunks', () => {
    const tally = new OptTraceTally();
    const text = [
      compiled('spamKey ', '0x23293cd03661', 'MAGLEV'),
      '[marking 0x0c74cf32b119 <JSFunction spamKey (sfi = 0x23293cd03661)> for optimization to MAGLEV]\n',
      invalidated,
      compiled('spamKey ', '0x23293cd03661', 'MAGLEV'),
      compiled('', '0xed195684cd9', 'TURBOFAN_JS'),
      bailout,
      'kubelet log lines are not counted\n',
    ].join('');
    tally.push(text.slice(0, 150));
    const before = tally.snapshot();
    tally.push(text.slice(150));
    expect(before.compiled).toEqual({ MAGLEV: 1 });
    expect(tally.snapshot()).toEqual({
      compiled: { MAGLEV: 2, TURBOFAN_JS: 1 },
      deoptimised: 1,
      invalidated: { 'dependent field type changed': 1 },
    });
    expect(optTallySince(tally.snapshot(), before)).toEqual({
      compiled: { MAGLEV: 1, TURBOFAN_JS: 1 },
      deoptimised: 1,
      invalidated: { 'dependent field type changed': 1 },
    });
  });

  it("names a function compiled again and again, told apart from others of its name by V8's function info", () => {
    const tally = new OptTraceTally();
    for (let i = 0; i < 6; i++) tally.push(compiled('spamKey ', '0x23293cd03661', 'MAGLEV'));
    for (let i = 0; i < 3; i++) tally.push(compiled('get ', `0x1${i}`, 'MAGLEV'));
    tally.push(compiled('get ', '0x10', 'TURBOFAN_JS'));
    expect(tally.recompiled(2)).toEqual([
      { fn: 'spamKey', compilations: 6 },
      { fn: 'get', compilations: 2 },
    ]);
    expect(tally.recompiled(7)).toEqual([]);
  });
});

describe('plotSeries', () => {
  it('draws one panel per series, a gap where a value is missing, and the marks', () => {
    const svg = plotSeries(
      'kube-proxy <soak>',
      [
        {
          name: 'working set',
          unit: 'MiB',
          points: [
            [1, 10],
            [2, 12],
            [3, undefined],
            [4, 11],
          ],
        },
        {
          name: 'CPU',
          unit: 's',
          points: [
            [1, 1],
            [2, 1],
          ],
        },
      ],
      [2],
    );
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('kube-proxy &lt;soak&gt;');
    expect(svg).toContain('<title>kube-proxy &lt;soak&gt;');
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});

describe('each agent starts as its unit in deploy/systemd starts it', () => {
  const repo = join(import.meta.dirname, '..', '..');
  it('the kubelet: its malloc settings, its NODE_OPTIONS apart, its LimitNOFILE under prlimit', () => {
    const u = unitStart(repo, 'kubelet');
    expect(u.env).toEqual({ MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(u.nodeOptions).toMatch(/^--max-semi-space-size=\d+$/);
    expect(u.limitNofile).toBe(1_000_000);
    expect(u.nofile).toBeLessThanOrEqual(u.limitNofile);
    expect(withNofile(u, '/bin/kubelet', ['--v=2'])).toEqual([
      'prlimit',
      [`--nofile=${u.nofile}:${u.nofile}`, '--', '/bin/kubelet', '--v=2'],
    ]);
  });

  it('kube-proxy: no environment but NODE_OPTIONS, its own LimitNOFILE', () => {
    const u = unitStart(repo, 'kube-proxy');
    expect(u.env).toEqual({});
    expect(u.nodeOptions).toMatch(/^--max-semi-space-size=\d+$/);
    expect(u.limitNofile).toBe(1_048_576);
  });
});
