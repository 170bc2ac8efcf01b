/**
 * Runs INSIDE the micro-VM (root, Debian's cloud kernel, only cgroup2 mounted): a whole node on
 * cgroup v2. It turns on a zram swap device, moves itself (the kubelet) out of the root cgroup as
 * systemd would (system.slice/kubelet.service: upstream finds the swap controller through the
 * kubelet's own cgroup), starts a private containerd on tmpfs (/run) and our Kubelet with
 * cgroupDriver cgroupfs, cgroupsPerQOS and cgroupRoot "/", then:
 *   1. swapBehavior LimitedSwap: a Burstable, a Guaranteed and a BestEffort pod;
 *   2. a second kubelet with swapBehavior NoSwap and the MemoryQoS gate (memoryReservationPolicy
 *      TieredReservation): a Burstable pod.
 * For each pod it records the cgroup the container's process is in (/proc/<pid>/cgroup), the pod
 * and container cgroup files, the CreateContainer requests the kubelet sent, the summary
 * (CriSummaryProvider), our reading of the pod and container cgroups (readCgroupV2Stats, PSI) and
 * the container_pressure_* lines /metrics/cadvisor makes of that summary.
 * Prints one line `SCENARIO-RESULT <json>`; cgroup-v2-node.test.ts does the asserting.
 *
 * The pods use the host network: this file is about cgroups, and a pod network would cost every
 * sandbox three CNI plugin runs to set up and three to tear down (Go binaries, slow under TCG,
 * guest CPU the rest of the suite waits for). The containerd tier covers pod networking.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import type { CreateContainerRequest, MessageInput } from '@nodeagent/cri-client/types';
import { readMachineInfo } from '@nodeagent/node-status';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import type { Pod } from '../../../src/api/pod-types';
import { detectCgroupFilesystem } from '../../../src/cgroups/cgroup-filesystem';
import { detectNodeSwap } from '../../../src/cgroups/node-swap';
import { PodCgroupManager } from '../../../src/cgroups/pod-cgroup-manager';
import { parseKubeletConfiguration } from '../../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../../src/cri/cri-pod-runtime';
import { Kubelet } from '../../../src/kubelet';
import { cadvisorMetricFamilies } from '../../../src/metrics-collectors/cadvisor-metrics';
import { renderExposition } from '../../../src/metrics-collectors/exposition-text';
import { hostKernelPsiEnabled } from '../../../src/metrics-collectors/kernel-psi';
import { PodObjectManager } from '../../../src/objects/pod-object-manager';
import { ApiPodSource } from '../../../src/sources/api-pod-source';
import { readCgroupV2Stats } from '../../../src/stats/cgroup-v2-stats';
import { CriSummaryProvider } from '../../../src/stats/summary-provider';
import { apiPodStatusWriter } from '../../../src/status/api-pod-status-writer';

const mountRoot = '/sys/fs/cgroup';
const speed = Number(process.env.NODEAGENT_VM_SPEED_FACTOR ?? '1') || 1;
/** The zram swap device's size (the LimitedSwap share is a fraction of it). */
const swapBytes = 256 * 2 ** 20;
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const raw = (dir: string, file: string) => readFileSync(join(mountRoot, dir, file), 'utf8').trim();
const rawFiles = (dir: string, files: readonly string[]) =>
  Object.fromEntries(files.map((file) => [file, raw(dir, file)]));
const limitFiles = ['cpu.max', 'cpu.weight', 'memory.max', 'pids.max', 'memory.swap.max'] as const;
/** MemoryQoS's files (KEP-2570): 0 / max as the kernel has them unless the gate is on. */
const memoryQoSFiles = ['memory.min', 'memory.low', 'memory.high'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** CPU time the guest has spent busy so far, all vCPUs (/proc/stat, in USER_HZ = 10 ms ticks). */
function guestBusyCpuSeconds(): number {
  const [, user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .split(/\s+/)
    .map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / 100;
}
/**
 * Progress on stderr (streamed to the host while the guest runs: a slow TCG run shows where it is),
 * with the guest's busy CPU so far: under TCG that is what the phase cost the host.
 */
const step = (what: string) =>
  console.error(
    `[cg2node ${new Date().toISOString()}] ${what} (guest CPU ${guestBusyCpuSeconds().toFixed(1)} s)`,
  );

interface RunningContainerd {
  endpoint: string;
  stop(): Promise<void>;
  images?: { busybox: { name: string } };
}
// Loaded by path, as private-containerd.ts does, so the package's typecheck skips the tools project:
// the test passes its bundle (this scenario runs bundled, not through tsx), else the source.
const toolsContainerd =
  process.argv[2] ?? fileURLToPath(new URL('../../../../../tools/containerd/containerd.ts', import.meta.url));

/** A CRI message with its int64 fields (bigint or number, by how it was built) as decimal strings. */
function decimalStrings(message: unknown): unknown {
  if (message === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(message, (_key, value) =>
      typeof value === 'bigint' || typeof value === 'number' ? String(value) : value,
    ),
  );
}

/** Polls `probe` until it returns something; a hang guard scaled by the VM's speed. */
async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 240_000 * speed;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The unified hierarchy alone, every controller delegated below the root, the kubelet in its own leaf. */
function prepareCgroups(): Record<string, unknown> {
  if (!existsSync(join(mountRoot, 'cgroup.controllers'))) sh('mount', '-t', 'cgroup2', 'none', mountRoot);
  const controllers = raw('', 'cgroup.controllers').split(' ');
  const enable = controllers.map((c) => `+${c}`).join(' ');
  writeFileSync(join(mountRoot, 'cgroup.subtree_control'), enable);
  mkdirSync(join(mountRoot, 'system.slice/kubelet.service'), { recursive: true });
  writeFileSync(join(mountRoot, 'system.slice/cgroup.subtree_control'), enable);
  writeFileSync(join(mountRoot, 'system.slice/kubelet.service/cgroup.procs'), String(process.pid));
  return {
    fstype: sh('stat', '-f', '-c', '%T', mountRoot),
    v1Mounts: readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((line) => line.split(' ')[2] === 'cgroup'),
    rootControllers: controllers.join(' '),
    selfCgroup: readFileSync('/proc/self/cgroup', 'utf8').trim(),
  };
}

/** A zram swap device (memory-backed, gone with the VM). */
function swapOn(): Record<string, unknown> {
  sh('modprobe', 'zram', 'num_devices=1');
  writeFileSync('/sys/block/zram0/disksize', String(swapBytes));
  sh('mkswap', '/dev/zram0');
  sh('swapon', '/dev/zram0');
  return { procSwaps: readFileSync('/proc/swaps', 'utf8') };
}

type PodInput = { metadata: { name: string; namespace: string }; spec: Omit<Pod['spec'], 'nodeName'> };

function pod(
  name: string,
  command: string,
  resources?: Pod['spec']['containers'][number]['resources'],
): PodInput {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      terminationGracePeriodSeconds: 1,
      hostNetwork: true,
      containers: [
        { name: 'c', image: '', command: ['sh', '-c', command], ...(resources ? { resources } : {}) },
      ],
    },
  };
}

// The burstable container writes 8 MiB into its own tmpfs-backed rootfs (charged to its cgroup as
// page cache it cannot drop) and spins a little so its CPU usage is not 0, then sleeps.
const busyThenSleep =
  'head -c 8388608 /dev/zero > /tmp/fill; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec sleep 3600';

/** One kubelet on the shared containerd and API server, with its own swap behaviour. */
async function runNode(input: {
  api: ApiServer;
  client: CriClient;
  busybox: string;
  nodeName: string;
  dir: string;
  swapBehavior: 'LimitedSwap' | 'NoSwap';
  /** The MemoryQoS gate on, with TieredReservation. */
  memoryQoS?: boolean;
  memoryCapacity: number;
  pods: Record<string, PodInput>;
}) {
  const { api, client, nodeName, dir } = input;
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const created: MessageInput<CreateContainerRequest>[] = [];
  const recording = Object.create(client) as CriClient;
  recording.createContainer = (req, opts) => {
    created.push(req);
    return client.createContainer(req, opts);
  };
  const fs = await detectCgroupFilesystem(mountRoot);
  const podPidsLimit = 1024;
  const memoryQoS = input.memoryQoS ? { reservationPolicy: 'TieredReservation' as const } : undefined;
  const cgroups = new PodCgroupManager({
    fs,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: '/',
    podPidsLimit,
    memoryQoS,
  });
  const podLogsDir = join(dir, 'logs');
  const rootDir = join(dir, 'root');
  const nodeSwap = await detectNodeSwap(fs.version);
  const kubelet = new Kubelet({
    api: {
      statusWriter: apiPodStatusWriter(core),
      objects: new PodObjectManager({
        strategy: 'Get',
        kubeConfig: api.kubeConfig(),
        core,
        resyncIntervalMs: 60_000,
      }),
    },
    node: {
      name: nodeName,
      rootDir,
      hostIPs: ['127.0.0.1'],
      // cAdvisor's MemoryCapacity: MemTotal.
      memoryCapacity: input.memoryCapacity,
      swap: nodeSwap,
    },
    runtime: criPodRuntime(recording),
    config: parseKubeletConfiguration({
      podLogsDir,
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: true,
      cgroupRoot: '/',
      podPidsLimit,
      failSwapOn: false,
      memorySwap: { swapBehavior: input.swapBehavior },
      ...(input.memoryQoS && {
        featureGates: { MemoryQoS: true },
        memoryReservationPolicy: 'TieredReservation',
      }),
    }).config,
    cgroups,
    pacing: {
      relistPeriodMs: 500,
      retryMs: 1000,
    },
  });
  await kubelet.start();
  step(
    `${nodeName}: kubelet started (${input.swapBehavior}, swap controller ${nodeSwap.swapControllerAvailable})`,
  );
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    metadata: { name: nodeName },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  });
  const source = new ApiPodSource(api.kubeConfig(), nodeName, {
    add: (p) => kubelet.addPod(p),
    update: (p) => kubelet.updatePod(p),
    remove: (p) => kubelet.removePod(p),
  });
  await source.start();
  const podsResource = api.resource('v1', 'pods');
  for (const p of Object.values(input.pods)) {
    p.spec.containers[0]!.image = input.busybox;
    api.registry.create(podsResource, 'default', { ...p, spec: { ...p.spec, nodeName } });
  }
  const running: Record<string, Pod> = {};
  for (const [key, p] of Object.entries(input.pods)) {
    running[key] = await waitFor(`${p.metadata.name} Running`, () => {
      const stored = api.registry.find(podsResource, 'default', p.metadata.name) as unknown as
        | Pod
        | undefined;
      return stored?.status?.phase === 'Running' && stored.status.containerStatuses?.[0]?.state?.running
        ? stored
        : undefined;
    });
  }
  // Until every container has finished its fill and spin (its shell exec'd `sleep`), instead of a
  // fixed 3 s × speed; then 2 s (guest time, not scaled) for the kernel's periodic memcg stats
  // flush, so memory.stat has caught up with the fill.
  for (const p of Object.values(running)) {
    const containerId = p.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const { info } = await client.containerStatus({ containerId, verbose: true });
    const { pid } = JSON.parse(info.info ?? '{}') as { pid: number };
    await waitFor(`${p.metadata.name} sleeping`, () =>
      readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' ? true : undefined,
    );
  }
  await sleep(2000);
  // MemoryQoS: the QoS tiers' protection follows the active pods at the housekeeping period (10 s).
  if (input.memoryQoS)
    await waitFor('kubepods/burstable memory.low', () =>
      raw('kubepods/burstable', 'memory.low') !== '0' ? true : undefined,
    );

  step(`${nodeName}: pods running`);
  // The pod cgroups for the PSI the CRI stats lack: the kubelet's pod by UID, the manager's path.
  const podCgroups = {
    podDir: (uid: string) => {
      const known = kubelet.getPods().find((p) => p.metadata.uid === uid);
      return known && join(mountRoot, cgroups.podCgroupPath(known));
    },
  };
  // One sample: what is asserted is cumulative (CPU time, working set, PSI totals); only
  // usageNanoCores needs a previous sample, and nothing here reads it.
  const summaryProvider = new CriSummaryProvider({ nodeName, rootDir, podLogsDir, cri: client, podCgroups });
  const summary = await summaryProvider.summary();

  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(running)) {
    const uid = p.metadata.uid ?? '';
    const containerId = p.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const status = await client.containerStatus({ containerId, verbose: true });
    const info = JSON.parse(status.info.info ?? '{}') as {
      pid: number;
      runtimeSpec: { linux: { cgroupsPath: string; resources: unknown } };
    };
    const procCgroup = readFileSync(`/proc/${info.pid}/cgroup`, 'utf8').trim();
    const podPath = cgroups.podCgroupPath(p);
    const containerPath = procCgroup.replace(/^0::/, '');
    const podStats = summary.pods.find((s) => s.podRef.uid === uid);
    out[key] = {
      uid,
      qosClass: p.status?.qosClass,
      containerId,
      podPath,
      procCgroup,
      cgroupsPath: info.runtimeSpec.linux.cgroupsPath,
      specResources: info.runtimeSpec.linux.resources,
      request: decimalStrings(
        created.find((r) => r.sandboxConfig?.metadata?.uid === uid)?.config?.linux?.resources,
      ),
      podFiles: rawFiles(podPath, limitFiles),
      containerFiles: rawFiles(containerPath, [
        ...limitFiles,
        ...memoryQoSFiles,
        'memory.current',
        'memory.oom.group',
      ]),
      podMemoryQoSFiles: rawFiles(podPath, memoryQoSFiles),
      podChildren: sh('ls', join(mountRoot, podPath)),
      summary: podStats,
      podCgroupStats: await readCgroupV2Stats(join(mountRoot, podPath), new Date().toISOString()),
      containerCgroupStats: await readCgroupV2Stats(join(mountRoot, containerPath), new Date().toISOString()),
    };
  }
  const qos = Object.fromEntries(
    ['kubepods', 'kubepods/burstable', 'kubepods/besteffort'].map((tier) => [
      tier,
      rawFiles(tier, [
        'cpu.weight',
        'cpu.max',
        'memory.max',
        'cgroup.subtree_control',
        'memory.min',
        'memory.low',
      ]),
    ]),
  );
  const result = {
    nodeSwap,
    pods: out,
    qos,
    node: summary.node,
    // /metrics/cadvisor's pressure counters from the same summary, with the guest kernel's answer
    // to upstream's IsPsiEnabled deciding whether they are served at all.
    kernelPsi: hostKernelPsiEnabled(),
    cadvisorPressure: renderExposition(cadvisorMetricFamilies(summary, Date.now()))
      .split('\n')
      .filter((line) => line.startsWith('container_pressure_')),
    meminfo: readFileSync('/proc/meminfo', 'utf8'),
    rootMemoryStat: raw('', 'memory.stat'),
  };

  step(`${nodeName}: recorded; stopping`);
  // Down: pods removed through the kubelet (their cgroups go), then the kubelet.
  await source.stop();
  for (const p of kubelet.getPods()) kubelet.removePod(p);
  await kubelet.settle().catch(() => undefined);
  await kubelet.stop();
  for (const p of Object.values(input.pods))
    api.registry.delete(podsResource, 'default', p.metadata.name, {});
  // The pod cgroups go once their sandboxes are gone; recorded (not waited on forever) for the test.
  const podDirs = Object.values(out).map((p) => join(mountRoot, (p as { podPath: string }).podPath));
  const deadline = Date.now() + 60_000 * speed;
  while (podDirs.some((d) => existsSync(d)) && Date.now() < deadline) await sleep(500);
  step(`${nodeName}: stopped`);
  return { ...result, podCgroupsLeft: podDirs.filter((d) => existsSync(d)) };
}

async function main() {
  step('scenario started');
  const r: Record<string, unknown> = {};
  r.mount = prepareCgroups();
  r.swap = swapOn();
  for (const module of ['bridge', 'veth']) {
    try {
      sh('modprobe', module);
    } catch {
      // built in, or loaded on demand
    }
  }
  const token = `${process.pid}-${randomBytes(3).toString('hex')}`;
  // tmpfs: containerd's overlay snapshots cannot have the guest's /tmp overlay as their upper dir.
  const dir = `/run/na-cg2node-${token}`;
  mkdirSync(dir, { recursive: true });
  const { startContainerd } = (await import(toolsContainerd)) as {
    startContainerd: (o: { baseDir: string }) => Promise<RunningContainerd>;
  };
  step('cgroups and swap ready; starting containerd');
  const containerd = await startContainerd({ baseDir: join(dir, 'containerd') });
  step('containerd up');
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const api = await startApiServer();
  try {
    const machine = await readMachineInfo({ rootDir: dir });
    r.machine = {
      memoryCapacityBytes: machine.memoryCapacityBytes,
      swapCapacityBytes: machine.swapCapacityBytes,
    };
    const common = {
      api,
      client,
      busybox: containerd.images!.busybox.name,
      memoryCapacity: machine.memoryCapacityBytes,
    };
    r.limited = await runNode({
      ...common,
      nodeName: `cg2-limited-${token}`,
      dir: join(dir, 'limited'),
      swapBehavior: 'LimitedSwap',
      pods: {
        burstable: pod('burstable', busyThenSleep, {
          requests: { cpu: '250m', memory: '32Mi' },
          limits: { cpu: '500m', memory: '128Mi' },
        }),
        guaranteed: pod('guaranteed', 'exec sleep 3600', {
          requests: { cpu: '500m', memory: '64Mi' },
          limits: { cpu: '500m', memory: '64Mi' },
        }),
        bestEffort: pod('best-effort', 'exec sleep 3600'),
      },
    });
    r.noSwap = await runNode({
      ...common,
      nodeName: `cg2-noswap-${token}`,
      dir: join(dir, 'noswap'),
      swapBehavior: 'NoSwap',
      memoryQoS: true,
      pods: {
        burstable: pod('burstable-noswap', busyThenSleep, {
          requests: { cpu: '250m', memory: '32Mi' },
          limits: { cpu: '500m', memory: '128Mi' },
        }),
      },
    });
  } finally {
    client.close();
    await api.close();
    await containerd.stop();
    sh('swapoff', '/dev/zram0');
    step('containerd stopped');
  }
  // CRI int64 fields are bigints: written as decimal strings.
  const json = JSON.stringify(r, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
  console.log(`SCENARIO-RESULT ${json}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
