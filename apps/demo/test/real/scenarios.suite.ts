/**
 * The two scenarios on real components: `npm start -- --nodes 3 --scenario …` (the demo's shared
 * bundle, start-demo.ts) with three containerd nodes, kubelets and kube-proxies in their namespaces, and the control
 * plane's timings shortened (grace period 8 s, monitor period 1 s, lease 8 s, toleration 5 s).
 * The assertions read the typed events of the --json summary: the same events the narration
 * prints, observed through the API, containerd's CRI and packets from the node namespaces.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DemoResult } from '../../src/demo';
import type { ScenarioRun } from '../../src/scenarios/run-scenario';
import type { ScenarioEvent } from '../../src/scenarios/scenario-events';
import { demoArgv, keepTranscript } from './start-demo';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const GRACE_S = 8;
const TOLERATION_S = 5;
const timings = [
  '--node-monitor-grace-period',
  String(GRACE_S),
  '--node-monitor-period',
  '1',
  '--node-lease-duration',
  '8',
  '--toleration-seconds',
  String(TOLERATION_S),
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only one demo runs at a time: while another holds the lock (exit 2), wait for it and retry. */
async function start(args: string[]): Promise<Run> {
  for (;;) {
    const run = await startOnce(args);
    if (run.code !== 2 || !run.stderr.includes('another node-in-a-box demo is running')) return run;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function startOnce(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, demoArgv(args), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    keepTranscript(child);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function summary(run: Run): DemoResult & { scenario?: ScenarioRun } {
  const last = run.stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(
      `no JSON summary (exit ${run.code}):\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`,
    );
  }
}

function byType(events: ScenarioEvent[]) {
  const found = new Map<string, ScenarioEvent>();
  for (const e of events) if (!found.has(e.type)) found.set(e.type, e);
  // biome-ignore lint/suspicious/noExplicitAny: each event type read by its own fields
  return (type: string): any => {
    const e = found.get(type);
    if (!e) throw new Error(`no ${type} event in ${events.map((x) => x.type).join(', ')}`);
    return e;
  };
}

describe('scenarios on 3 real nodes (containerd, kubelet, kube-proxy)', () => {
  it('kubelet-missing: every effect observed, then the recovery', { timeout: 20 * 60_000 }, async () => {
    const run = await start([
      '--nodes',
      '3',
      '--scenario',
      'kubelet-missing',
      '--once',
      '--json',
      ...timings,
    ]);
    const result = summary(run);
    const events = result.scenario?.events ?? [];
    expect(result.scenario?.problems, run.stdout.slice(-4000)).toEqual([]);
    expect(events.map((e) => e.type)).toEqual([
      'workload-placed',
      'kubelet-stopped',
      'container-killed',
      'container-exited',
      'lease-not-renewed',
      'node-not-ready',
      'taints-added',
      'pods-still-running',
      'new-pod-elsewhere',
      'pod-deleted',
      'deleted-pod-still-running',
      'pods-evicted',
      'pods-recreated',
      'container-not-restarted',
      'kubelet-started',
      'node-ready',
      'taints-removed',
      'deleted-pod-stopped',
      'no-duplicates',
    ]);
    const e = byType(events);
    const node = e('kubelet-stopped').node;
    // Unknown only once the grace period has passed since the last renewal.
    expect(e('node-not-ready')).toMatchObject({
      node,
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    expect(e('node-not-ready').atMs).toBeGreaterThan(GRACE_S * 1000 + e('lease-not-renewed').lastRenewAtMs);
    expect(e('taints-added').taints).toEqual(
      expect.arrayContaining([
        'node.kubernetes.io/unreachable:NoSchedule',
        'node.kubernetes.io/unreachable:NoExecute',
      ]),
    );
    expect(e('pods-still-running').pods).toContain('default/scenario-deleted-later');
    expect(e('new-pod-elsewhere').node).not.toBe(node);
    expect(e('deleted-pod-still-running').containers).toEqual(['httpd']);
    // Eviction waits for the toleration (counted from the taint's timeAdded, a little before we saw it).
    expect(e('pods-evicted').atMs - e('taints-added').atMs).toBeGreaterThan((TOLERATION_S - 2) * 1000);
    for (const p of e('pods-recreated').pods) expect(p.node).not.toBe(node);
    expect(e('pods-recreated').pods.length).toBeGreaterThanOrEqual(e('workload-placed').pods.length);
    expect(e('deleted-pod-stopped').pods).toContain('scenario-deleted-later');
    expect(result.leftovers).toEqual([]);
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
  });

  it.each(['nftables', 'iptables'])(
    'kube-proxy-missing (%s): old rules work, a new Service and a moved endpoint fail only there, the first sync after the restart repairs it',
    { timeout: 15 * 60_000 },
    async (mode) => {
      const run = await start([
        '--nodes',
        '3',
        '--proxy-mode',
        mode,
        '--scenario',
        'kube-proxy-missing',
        '--once',
        '--json',
      ]);
      const result = summary(run);
      const events = result.scenario?.events ?? [];
      expect(result.scenario?.problems, run.stdout.slice(-4000)).toEqual([]);
      expect(events.map((e) => e.type)).toEqual([
        'baseline',
        'moved-baseline',
        'kube-proxy-stopped',
        'existing-service-works',
        'service-created',
        'new-service-works-elsewhere',
        'new-service-fails-here',
        'endpoint-moved',
        'moved-service-works-elsewhere',
        'moved-service-fails-here',
        'kube-proxy-started',
        'repaired',
      ]);
      const e = byType(events);
      const node = e('kube-proxy-stopped').node;
      expect(e('existing-service-works').answeredBy.length).toBe(4);
      expect(e('new-service-works-elsewhere').nodes).not.toContain(node);
      expect(e('new-service-works-elsewhere').nodes).toHaveLength(2);
      expect(e('new-service-fails-here')).toMatchObject({ node, attempts: 3 });
      const moved = e('endpoint-moved');
      expect(e('moved-baseline')).toMatchObject({ service: 'scenario-moved', pod: moved.from.pod });
      expect(moved.to.pod).not.toBe(moved.from.pod);
      expect(moved.to.podIP).not.toBe(moved.from.podIP);
      expect(e('moved-service-works-elsewhere')).toMatchObject({ pod: moved.to.pod });
      expect(e('moved-service-works-elsewhere').nodes).not.toContain(node);
      expect(e('moved-service-works-elsewhere').nodes).toHaveLength(2);
      expect(e('moved-service-fails-here')).toMatchObject({ node, staleIP: moved.from.podIP, attempts: 3 });
      // The restarted kube-proxy's first sync (its last-sync metric) repaired both Services.
      expect(e('repaired')).toMatchObject({
        node,
        services: ['scenario-new', 'scenario-moved'],
        answeredBy: [expect.any(String), moved.to.pod],
        byFirstSync: true,
      });
      expect(e('repaired').firstSyncSinceRestartMs).toBeGreaterThan(0);
      expect(e('repaired').firstSyncSinceRestartMs).toBeLessThanOrEqual(e('repaired').sinceRestartMs);
      expect(result.leftovers).toEqual([]);
      expect(run.code, run.stdout.slice(-3000)).toBe(0);
    },
  );
});
