#!/usr/bin/env node
// `node tools/docs/plot.mjs [--results bench-results] [--out docs/performance/plots]`: redraws the
// performance pages' plots from the JSON the benches write, one SVG per figure, so a rerun of a
// bench followed by this script updates the pictures. A bench whose JSON is missing keeps its
// committed plot. Upstream's figures are those of /work/shared/PERFORMANCE.md (v1.36.3 on a 2-core
// machine like the benches', with a real control plane).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { barChart } from './svg-bar-chart.mjs';

/** Upstream v1.36.3's measurements the plots show beside ours: [low, high]. */
export const UPSTREAM = {
  kubeProxyNftables5000x50: { firstSyncS: [8.4, 9.7], rssMB: [374, 389] },
  kubeletStart: {
    firstLogMs: [200, 300],
    startedMs: [400, 600],
    staticPodRunningMs: [1000, 2400],
    cpuFirst10sS: [0.4, 0.4],
  },
};

const range = ([low, high], unit) => `${low}–${high} ${unit}`;

/** The kube-proxy scale bench's runs (bench-results/kube-proxy-scale.json) as three charts. */
export function kubeProxyScaleCharts(result) {
  const shape = (run) =>
    `${run.mode}, ${run.services.toLocaleString('en-US')} Services × ${run.endpointsPerService} endpoints`;
  const upstreamFor = (run) =>
    run.mode === 'nftables' && run.services === 5000 && run.endpointsPerService === 50
      ? UPSTREAM.kubeProxyNftables5000x50
      : undefined;
  const firstSync = {
    title: 'kube-proxy: exec → first sync done',
    unit: 's',
    note: 'floor: a bare list of the same objects plus the kernel tool loading the same rules',
    groups: result.runs.map((run) => {
      const upstream = upstreamFor(run);
      const bars = [{ label: 'nodeagent-kube-proxy', value: run.execToFirstSyncDoneMs / 1000, kind: 'ours' }];
      if (run.floor?.totalMs) bars.push({ label: 'floor', value: run.floor.totalMs / 1000, kind: 'floor' });
      if (upstream)
        bars.push({
          label: 'upstream v1.36.3',
          value: upstream.firstSyncS[1],
          kind: 'upstream',
          text: range(upstream.firstSyncS, 's'),
        });
      return { label: shape(run), bars };
    }),
  };
  const memory = {
    title: 'kube-proxy: resident memory after the first sync',
    unit: 'MB',
    groups: result.runs
      .filter((run) => run.rssMB)
      .map((run) => {
        const upstream = upstreamFor(run);
        const bars = [
          { label: 'nodeagent, steady', value: run.rssMB.steady, kind: 'ours' },
          { label: 'nodeagent, peak', value: run.rssMB.peak, kind: 'ours' },
        ];
        if (upstream)
          bars.push({
            label: 'upstream v1.36.3',
            value: upstream.rssMB[1],
            kind: 'upstream',
            text: range(upstream.rssMB, 'MB'),
          });
        return { label: shape(run), bars };
      }),
  };
  const change = {
    title: 'kube-proxy: one endpoint change → rules in the kernel',
    unit: 'ms',
    note: 'upstream v1.36.3 at 5,000 × 50 under 5 changes a second: 5,240 ms mean (not drawn)',
    groups: result.runs
      .filter((run) => run.endpointChange)
      .map((run) => ({
        label: `${shape(run)}, ${run.endpointChange.count} changes`,
        bars: [
          { label: 'p50', value: run.endpointChange.p50Ms, kind: 'ours' },
          { label: 'p99', value: run.endpointChange.p99Ms, kind: 'ours' },
          { label: 'max', value: run.endpointChange.maxMs, kind: 'ours' },
        ],
      })),
  };
  return {
    'kube-proxy-first-sync.svg': barChart(firstSync),
    'kube-proxy-memory.svg': barChart(memory),
    'kube-proxy-endpoint-change.svg': barChart(change),
  };
}

/** The kubelet start-up bench's medians (bench-results/kubelet-startup.json) as one chart. */
export function kubeletStartupCharts(result) {
  const up = UPSTREAM.kubeletStart;
  const groups = Object.values(result.medians).map((m, i, all) => ({
    label: all.length > 1 ? `executable ${i + 1}: from exec` : 'from exec',
    bars: [
      { label: 'first log line', value: m.firstLogMs, kind: 'ours' },
      { label: 'upstream', value: up.firstLogMs[1], kind: 'upstream', text: range(up.firstLogMs, 'ms') },
      { label: '"kubelet started"', value: m.startedMs, kind: 'ours' },
      {
        label: 'upstream "Started kubelet"',
        value: up.startedMs[1],
        kind: 'upstream',
        text: range(up.startedMs, 'ms'),
      },
      { label: 'static pod running', value: m.staticPodRunningMs, kind: 'ours' },
      {
        label: 'upstream',
        value: up.staticPodRunningMs[1],
        kind: 'upstream',
        text: range(up.staticPodRunningMs, 'ms'),
      },
    ],
  }));
  const cpu = Object.values(result.medians).map((m, i, all) => ({
    label: all.length > 1 ? `executable ${i + 1}` : 'CPU-seconds in the first 10 s',
    bars: [
      { label: 'nodeagent-kubelet', value: m.cpuFirst10sS, kind: 'ours' },
      ...(result.floor
        ? [
            {
              label: 'floor (the same RSA keys)',
              value: result.floor.cpuFirst10sS,
              kind: 'floor',
            },
          ]
        : []),
      { label: 'upstream, during kubeadm init', value: up.cpuFirst10sS[0], kind: 'upstream' },
    ],
  }));
  return {
    'kubelet-startup.svg': barChart({
      title: 'kubelet: start as kubeadm starts it (medians)',
      unit: 'ms',
      note: 'upstream v1.36.3: a real kubeadm node on another machine',
      groups,
    }),
    'kubelet-startup-cpu.svg': barChart({ title: 'kubelet: CPU of the start', unit: 's', groups: cpu }),
  };
}

/** Every chart the JSON files under `resultsDir` give, by file name. */
export function chartsFrom(resultsDir) {
  const charts = {};
  const scale = join(resultsDir, 'kube-proxy-scale.json');
  if (existsSync(scale)) Object.assign(charts, kubeProxyScaleCharts(JSON.parse(readFileSync(scale, 'utf8'))));
  const startup = join(resultsDir, 'kubelet-startup.json');
  if (existsSync(startup))
    Object.assign(charts, kubeletStartupCharts(JSON.parse(readFileSync(startup, 'utf8'))));
  return charts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const { values } = parseArgs({
    options: {
      results: { type: 'string', default: join(root, 'bench-results') },
      out: { type: 'string', default: join(root, 'docs', 'performance', 'plots') },
    },
  });
  const charts = chartsFrom(values.results);
  if (Object.keys(charts).length === 0) {
    console.error(
      `plot: no bench results in ${values.results}; run a bench first (npm run bench -- kube-proxy-scale)`,
    );
    process.exit(1);
  }
  mkdirSync(values.out, { recursive: true });
  for (const [name, svg] of Object.entries(charts)) {
    writeFileSync(join(values.out, name), svg);
    console.log(`plot: ${join(values.out, name)}`);
  }
}
