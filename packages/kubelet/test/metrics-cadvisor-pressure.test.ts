import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cadvisorMetricFamilies } from '../src/metrics-collectors/cadvisor-metrics';
import { renderExposition } from '../src/metrics-collectors/exposition-text';
import { kernelPsiEnabled } from '../src/metrics-collectors/kernel-psi';
import { addCgroupPressure, readCgroupPressure } from '../src/stats/cgroup-pressure';
import type { Summary } from '../src/stats/summary-types';

const at = '2026-11-26T10:00:00Z';
const stamp = Date.parse(at);

/** A *.pressure file as a 6.x kernel writes it; `some`/`full` totals in microseconds. */
const pressureFile = (some: number, full: number) =>
  `some avg10=0.00 avg60=0.00 avg300=0.00 total=${some}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=${full}\n`;

/** Pod `web` (uid u1) with one container `app` (runtime ID c1); CPU and memory from the CRI, no PSI. */
function criSummary(): Summary {
  return {
    node: {
      nodeName: 'node-a',
      startTime: '2026-11-26T00:00:00Z',
      cpu: { time: at, usageCoreNanoSeconds: 5e9 },
      memory: { time: at, workingSetBytes: 1e6 },
    },
    pods: [
      {
        podRef: { name: 'web', namespace: 'default', uid: 'u1' },
        startTime: '2026-11-26T01:00:00Z',
        cpu: { time: at, usageCoreNanoSeconds: 2e9 },
        containers: [
          { name: 'app', startTime: '2026-11-26T01:00:01Z', cpu: { time: at, usageCoreNanoSeconds: 1e9 } },
          // Not started yet: no stats, so no pressure row (cAdvisor skips a container without stats).
          { name: 'late', startTime: '2026-11-26T01:00:02Z' },
        ],
      },
    ],
  };
}

const root = 'container="",id="/",image="",name="",namespace="",pod=""';
const pod = 'container="",id="",image="",name="",namespace="default",pod="web"';
const app = 'container="app",id="",image="",name="",namespace="default",pod="web"';

/** The container_pressure_* part of an exposition. */
function pressureLines(text: string): string[] {
  return text.split('\n').filter((line) => line.includes('container_pressure_'));
}

describe('kernelPsiEnabled (upstream IsPsiEnabled)', () => {
  it.each([
    [true, 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet', true],
    [false, 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet', false],
    [true, 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet psi=0', false],
    [true, 'BOOT_IMAGE=/vmlinuz psi=0 psi=1', true],
    [true, 'BOOT_IMAGE=/vmlinuz psi=1 psi=0\n', false],
  ])('/proc/pressure present: %s, cmdline %j: %s', (dir, cmdline, expected) => {
    expect(kernelPsiEnabled(dir, cmdline)).toBe(expected);
  });
});

describe('container_pressure_* on /metrics/cadvisor', () => {
  let dir: string;
  const podDir = () => join(dir, 'kubepods', 'podu1');

  beforeAll(async () => {
    // A cgroup v2 tree: the root, a pod cgroup and its container's (cgroupfs driver naming).
    dir = await mkdtemp(join(tmpdir(), 'na-cadvisor-psi-'));
    await mkdir(join(podDir(), 'c1'), { recursive: true });
    const files: Record<string, string> = {
      'cpu.pressure': pressureFile(9_000_000, 3_000_000),
      'memory.pressure': pressureFile(600_000, 250_000),
      'io.pressure': pressureFile(1_500_000, 1_000_000),
      'kubepods/podu1/cpu.pressure': pressureFile(4_000_000, 1_234_567),
      'kubepods/podu1/memory.pressure': pressureFile(20, 10),
      'kubepods/podu1/io.pressure': pressureFile(300_000, 100_000),
      'kubepods/podu1/c1/cpu.pressure': pressureFile(2_000_000, 500_000),
      'kubepods/podu1/c1/memory.pressure': pressureFile(0, 0),
      // No io.pressure for the container: that resource reads 0, as cAdvisor's zero PSI.
    };
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('emits the six counters per cgroup from the v2 pressure files, microseconds as seconds', async () => {
    const summary = criSummary();
    // What the summary provider does on cgroup v2: the root's pressure on the node, the pod's and
    // container's from their cgroup directories.
    const rootPressure = await readCgroupPressure(dir);
    summary.node.cpu!.psi = rootPressure?.cpu;
    summary.node.memory!.psi = rootPressure?.memory;
    summary.node.io = { time: at, psi: rootPressure?.io };
    const ids = new Map([['u1', new Map([['app', 'c1']])]]);
    await addCgroupPressure(summary.pods, ids, { podDir: () => podDir() }, at);

    const text = renderExposition(cadvisorMetricFamilies(summary, stamp, undefined, true));
    expect(pressureLines(text)).toEqual([
      '# HELP container_pressure_cpu_stalled_seconds_total Total time duration no tasks in the container could make progress due to CPU congestion.',
      '# TYPE container_pressure_cpu_stalled_seconds_total counter',
      `container_pressure_cpu_stalled_seconds_total{${pod}} 1.234567 ${stamp}`,
      `container_pressure_cpu_stalled_seconds_total{${root}} 3 ${stamp}`,
      `container_pressure_cpu_stalled_seconds_total{${app}} 0.5 ${stamp}`,
      '# HELP container_pressure_cpu_waiting_seconds_total Total time duration tasks in the container have waited due to CPU congestion.',
      '# TYPE container_pressure_cpu_waiting_seconds_total counter',
      `container_pressure_cpu_waiting_seconds_total{${pod}} 4 ${stamp}`,
      `container_pressure_cpu_waiting_seconds_total{${root}} 9 ${stamp}`,
      `container_pressure_cpu_waiting_seconds_total{${app}} 2 ${stamp}`,
      '# HELP container_pressure_io_stalled_seconds_total Total time duration no tasks in the container could make progress due to IO congestion.',
      '# TYPE container_pressure_io_stalled_seconds_total counter',
      `container_pressure_io_stalled_seconds_total{${pod}} 0.1 ${stamp}`,
      `container_pressure_io_stalled_seconds_total{${root}} 1 ${stamp}`,
      `container_pressure_io_stalled_seconds_total{${app}} 0 ${stamp}`,
      '# HELP container_pressure_io_waiting_seconds_total Total time duration tasks in the container have waited due to IO congestion.',
      '# TYPE container_pressure_io_waiting_seconds_total counter',
      `container_pressure_io_waiting_seconds_total{${pod}} 0.3 ${stamp}`,
      `container_pressure_io_waiting_seconds_total{${root}} 1.5 ${stamp}`,
      `container_pressure_io_waiting_seconds_total{${app}} 0 ${stamp}`,
      '# HELP container_pressure_memory_stalled_seconds_total Total time duration no tasks in the container could make progress due to memory congestion.',
      '# TYPE container_pressure_memory_stalled_seconds_total counter',
      `container_pressure_memory_stalled_seconds_total{${pod}} 1e-05 ${stamp}`,
      `container_pressure_memory_stalled_seconds_total{${root}} 0.25 ${stamp}`,
      `container_pressure_memory_stalled_seconds_total{${app}} 0 ${stamp}`,
      '# HELP container_pressure_memory_waiting_seconds_total Total time duration tasks in the container have waited due to memory congestion.',
      '# TYPE container_pressure_memory_waiting_seconds_total counter',
      `container_pressure_memory_waiting_seconds_total{${pod}} 2e-05 ${stamp}`,
      `container_pressure_memory_waiting_seconds_total{${root}} 0.6 ${stamp}`,
      `container_pressure_memory_waiting_seconds_total{${app}} 0 ${stamp}`,
    ]);
  });

  it('reads 0 on a cgroup v1 host whose kernel has PSI (no pressure files), as cAdvisor does', () => {
    const text = renderExposition(cadvisorMetricFamilies(criSummary(), stamp, undefined, true));
    const samples = pressureLines(text).filter((line) => !line.startsWith('#'));
    // Three rows with stats (root, pod, app; not `late`) × six counters, every one 0.
    expect(samples).toHaveLength(18);
    for (const line of samples) expect(line).toMatch(/\} 0 \d+$/);
  });

  it('emits none when the kernel has no PSI (upstream leaves PressureMetrics out)', async () => {
    const summary = criSummary();
    await addCgroupPressure(summary.pods, new Map(), { podDir: () => podDir() }, at);
    expect(summary.pods[0]!.cpu!.psi).toBeDefined();
    const text = renderExposition(cadvisorMetricFamilies(summary, stamp, undefined, false));
    expect(pressureLines(text)).toEqual([]);
  });
});
