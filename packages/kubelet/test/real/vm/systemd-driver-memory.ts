/**
 * Guest helper of systemd-driver-node.ts (runs INSIDE the micro-VM booted with systemd as PID 1):
 * cgroup v2's memory features on the systemd slices and scopes. A zram swap device for the
 * LimitedSwap share, and per node, once its pods run with the MemoryQoS gate on
 * (TieredReservation) and swapBehavior LimitedSwap: each pod slice's and container scope's
 * memory files and unit properties, what the kubelet asked of containerd, the QoS slices'
 * protection, and the summary's PSI with the /metrics/cadvisor pressure lines made from it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CriClient } from '@nodeagent/cri-client';
import type { CreateContainerRequest, MessageInput } from '@nodeagent/cri-client/types';
import type { Pod } from '../../../src/api/pod-types';
import type { PodCgroupManager } from '../../../src/cgroups/pod-cgroup-manager';
import { cadvisorMetricFamilies } from '../../../src/metrics-collectors/cadvisor-metrics';
import { renderExposition } from '../../../src/metrics-collectors/exposition-text';
import { hostKernelPsiEnabled } from '../../../src/metrics-collectors/kernel-psi';
import { readCgroupV2Stats } from '../../../src/stats/cgroup-v2-stats';
import { CriSummaryProvider } from '../../../src/stats/summary-provider';

const mountRoot = '/sys/fs/cgroup';
/** The zram swap device's size (the LimitedSwap share is a fraction of it). */
const swapBytes = 256 * 2 ** 20;
/** MemoryQoS's and swap's files, the kernel's 0 / max unless something wrote them. */
const memoryFiles = ['memory.min', 'memory.low', 'memory.high', 'memory.max', 'memory.swap.max'] as const;
/** The same as systemd unit properties (libcontainer's unifiedResToSystemdProps names). */
const memoryProperties = ['MemoryMin', 'MemoryLow', 'MemoryHigh', 'MemoryMax', 'MemorySwapMax'];

const raw = (dir: string, file: string) => readFileSync(join(mountRoot, dir, file), 'utf8').trim();
const rawFiles = (dir: string, files: readonly string[]) =>
  Object.fromEntries(files.map((file) => [file, raw(dir, file)]));

/** `systemctl show` of a unit's memory properties as an object. */
function memoryShow(unit: string): Record<string, string> {
  const text = execFileSync('systemctl', ['show', unit, ...memoryProperties.map((p) => `--property=${p}`)], {
    encoding: 'utf8',
  }).trim();
  return Object.fromEntries(
    text.split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

/** A zram swap device (memory-backed, gone with the VM), turned on before the kubelets read SwapTotal. */
export function swapOn(): { procSwaps: string } {
  execFileSync('modprobe', ['zram', 'num_devices=1']);
  writeFileSync('/sys/block/zram0/disksize', String(swapBytes));
  execFileSync('mkswap', ['/dev/zram0']);
  execFileSync('swapon', ['/dev/zram0']);
  return { procSwaps: readFileSync('/proc/swaps', 'utf8') };
}

/** Turns the zram device off again. */
export function swapOff(): void {
  execFileSync('swapoff', ['/dev/zram0']);
}

/** A CRI client that keeps every CreateContainer request (what the kubelet asked containerd for). */
export function recordingClient(client: CriClient): {
  client: CriClient;
  created: MessageInput<CreateContainerRequest>[];
} {
  const created: MessageInput<CreateContainerRequest>[] = [];
  const recording = Object.create(client) as CriClient;
  recording.createContainer = (req, opts) => {
    created.push(req);
    return client.createContainer(req, opts);
  };
  return { client: recording, created };
}

/** A CRI message with its int64 fields (bigint or number, by how it was built) as decimal strings. */
function decimalStrings(message: unknown): unknown {
  if (message === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(message, (_key, value) =>
      typeof value === 'bigint' || typeof value === 'number' ? String(value) : value,
    ),
  );
}

/** What one node's memory recording needs from it. */
export interface MemoryRecordInput {
  client: CriClient;
  cgroups: PodCgroupManager;
  created: readonly MessageInput<CreateContainerRequest>[];
  nodeName: string;
  rootDir: string;
  podLogsDir: string;
  /** The pods as they run, by key (guaranteed, burstable, bestEffort). */
  running: Record<string, Pod>;
  /** The kubelet's pod by UID (for the summary's pod cgroup dirs). */
  podByUid: (uid: string) => Pod | undefined;
}

/**
 * Per pod: its slice's and its container scope's memory files and properties, the unified map the
 * kubelet sent, the summary's figures and our own later reading of both cgroups (PSI only grows);
 * the QoS slices; the node's summary, /metrics/cadvisor's pressure lines and /proc/meminfo.
 */
export async function recordMemory(input: MemoryRecordInput): Promise<Record<string, unknown>> {
  const { cgroups } = input;
  const podCgroups = {
    podDir: (uid: string) => {
      const known = input.podByUid(uid);
      return known && join(mountRoot, cgroups.podCgroupPath(known));
    },
  };
  const summary = await new CriSummaryProvider({
    nodeName: input.nodeName,
    rootDir: input.rootDir,
    podLogsDir: input.podLogsDir,
    cri: input.client,
    podCgroups,
  }).summary();
  const pods: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(input.running)) {
    const uid = p.metadata.uid ?? '';
    const containerId = p.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const podPath = cgroups.podCgroupPath(p);
    const scope = `cri-containerd-${containerId}.scope`;
    const containerPath = join(podPath, scope);
    pods[key] = {
      request: decimalStrings(
        input.created.find((r) => r.sandboxConfig?.metadata?.uid === uid)?.config?.linux?.resources?.unified,
      ),
      sliceFiles: rawFiles(podPath, memoryFiles),
      sliceShow: memoryShow(cgroups.cgroupParent(p)),
      scopeFiles: rawFiles(containerPath, memoryFiles),
      scopeShow: memoryShow(scope),
      summary: summary.pods.find((s) => s.podRef.uid === uid),
      sliceStats: await readCgroupV2Stats(join(mountRoot, podPath), new Date().toISOString()),
      scopeStats: await readCgroupV2Stats(join(mountRoot, containerPath), new Date().toISOString()),
    };
  }
  const qos = Object.fromEntries(
    [
      ['kubepods.slice', 'kubepods.slice'],
      ['kubepods-burstable.slice', 'kubepods.slice/kubepods-burstable.slice'],
    ].map(([unit, path]) => [
      unit,
      { files: rawFiles(path!, ['memory.min', 'memory.low']), show: memoryShow(unit!) },
    ]),
  );
  return {
    pods,
    qos,
    node: summary.node,
    kernelPsi: hostKernelPsiEnabled(),
    cadvisorPressure: renderExposition(cadvisorMetricFamilies(summary, Date.now()))
      .split('\n')
      .filter((line) => line.startsWith('container_pressure_')),
    meminfo: readFileSync('/proc/meminfo', 'utf8'),
  };
}
