/**
 * One node of systemd-driver-scenario.ts, run INSIDE the micro-VM booted with systemd as PID 1 on
 * cgroup v2: a private containerd of the given version with runc's systemd cgroup driver
 * (SystemdCgroup = true) and our Kubelet, whose cgroup driver is the one the kubelet's start-up
 * takes (cgroupDriverFromRuntime, as apps/kubelet's run-kubelet.ts: the runtime's RuntimeConfig
 * over the configured one). It runs a Guaranteed, a Burstable and a BestEffort pod and records
 * per pod the slice (name, path, files, systemctl show), where the container's process is and the
 * runtime's cgroupsPath; then `systemctl status kubepods.slice`; then deletes the Burstable pod
 * through the API and records its slice's fate, then the rest. With `userns`, a `hostUsers: false`
 * pod (pod network, an emptyDir) is recorded too: its uid_map/gid_map from inside, its `userns`
 * file, who owns a file root wrote on the emptyDir. Every node runs with the MemoryQoS gate on
 * (TieredReservation) and swapBehavior LimitedSwap on the scenario's zram swap: what that put in
 * the slices and scopes, and the summary's PSI, are recorded by systemd-driver-memory.ts. With
 * `imageVolume` (2.1) the BestEffort pod also mounts an image volume. The QoS pods use the host
 * network (this is about cgroups; CNI is slow under TCG).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { Registry } from 'prom-client';
import type { Pod } from '../../../src/api/pod-types';
import { driverCgroupFilesystem } from '../../../src/cgroups/driver-cgroup-filesystem';
import { detectNodeSwap } from '../../../src/cgroups/node-swap';
import { PodCgroupManager } from '../../../src/cgroups/pod-cgroup-manager';
import { parseKubeletConfiguration } from '../../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../../src/cri/cri-pod-runtime';
import { type CgroupDriverSetting, cgroupDriverFromRuntime } from '../../../src/cri/runtime-cgroup-driver';
import { UserNamespaceAllocator, userNamespaceMappingsFile } from '../../../src/cri/user-namespaces';
import { Kubelet } from '../../../src/kubelet';
import { PodObjectManager } from '../../../src/objects/pod-object-manager';
import { ApiPodSource } from '../../../src/sources/api-pod-source';
import { apiPodStatusWriter } from '../../../src/status/api-pod-status-writer';
import { recordingClient, recordMemory } from './systemd-driver-memory';

const mountRoot = '/sys/fs/cgroup';
const speed = Number(process.env.NODEAGENT_VM_SPEED_FACTOR ?? '1') || 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A progress line on stderr (the test streams it): where a slow TCG run spent its time. */
export const step = (what: string) => console.error(`[sdnode ${new Date().toISOString()}] ${what}`);

/** A command's stdout, or its failure as text (systemctl status exits 3 for an inactive unit). */
export function run(cmd: string, ...args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() + `\n(exit ${e.status})`;
  }
}
const raw = (dir: string, file: string) => readFileSync(join(mountRoot, dir, file), 'utf8').trim();
const limitFiles = ['cpu.weight', 'cpu.max', 'memory.max', 'pids.max'] as const;
const unitProperties = [
  'ActiveState',
  'LoadState',
  'Description',
  'Wants',
  'ControlGroup',
  'MemoryAccounting',
  'CPUAccounting',
  'TasksAccounting',
  'MemoryMax',
  'CPUWeight',
  'CPUQuotaPerSecUSec',
  'CPUQuotaPeriodUSec',
  'TasksMax',
];
/** `systemctl show` of a unit's properties as an object. */
function show(unit: string): Record<string, string> {
  const text = run('systemctl', 'show', unit, ...unitProperties.map((p) => `--property=${p}`));
  return Object.fromEntries(
    text.split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}
const listSlices = (pattern: string, all = false) =>
  run(
    'systemctl',
    'list-units',
    ...(all ? ['--all'] : []),
    '--no-legend',
    '--plain',
    '--type=slice',
    pattern,
  );

/** cAdvisor's MemoryCapacity: MemTotal. */
function memTotal(): number {
  return Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 240_000 * speed;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** What tools/containerd's startContainerd gives back that a node uses. */
export interface RunningContainerd {
  endpoint: string;
  stop(): Promise<void>;
  images?: { busybox: { name: string } };
}
/** tools/containerd's startContainerd (bundled separately, passed in by path). */
export type StartContainerd = (o: { baseDir: string; version: '1.6' | '2.1' }) => Promise<RunningContainerd>;

/** One node's set-up: which containerd, what the kubelet configuration says, where it lives. */
export interface NodeOptions {
  version: '1.6' | '2.1';
  /** KubeletConfiguration.cgroupDriver; the runtime's RuntimeConfig answer, when it has one, wins. */
  configuredDriver: CgroupDriverSetting;
  dir: string;
  startContainerd: StartContainerd;
  /** Also run a hostUsers: false pod (containerd 2.1 with its runc 1.3). */
  userns?: boolean;
  /** The BestEffort pod also mounts the busybox image as an image volume at /img (containerd ≥ 2.1). */
  imageVolume?: boolean;
}

type PodInput = { metadata: { name: string; namespace: string }; spec: Omit<Pod['spec'], 'nodeName'> };
function pod(name: string, resources?: Pod['spec']['containers'][number]['resources']): PodInput {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      terminationGracePeriodSeconds: 1,
      hostNetwork: true,
      containers: [{ name: 'c', image: '', command: ['sleep', '3600'], ...(resources ? { resources } : {}) }],
    },
  };
}
/** The image volume's name and mount point; its reference is filled in with the node's busybox. */
const imageVolume = { name: 'img', mountPath: '/img' };
function qosPods(withImageVolume = false) {
  const bestEffort = pod('best-effort');
  if (withImageVolume) {
    bestEffort.spec.containers[0]!.volumeMounts = [imageVolume];
    bestEffort.spec.volumes = [
      { name: imageVolume.name, image: { reference: '', pullPolicy: 'IfNotPresent' } },
    ];
  }
  return {
    guaranteed: pod('guaranteed', {
      requests: { cpu: '500m', memory: '64Mi' },
      limits: { cpu: '500m', memory: '64Mi' },
    }),
    burstable: pod('burstable', {
      requests: { cpu: '250m', memory: '32Mi' },
      limits: { cpu: '500m', memory: '128Mi' },
    }),
    bestEffort,
  };
}
/** upstream's e2e range (110 pods from ID 1000 × 65536), as the host tier's user-namespaces.test.ts. */
const idsPerPod = 65_536;
const kubeletMapping = { firstId: 1000 * idsPerPod, length: 110 * idsPerPod };

interface Node {
  options: NodeOptions;
  containerd: RunningContainerd;
  client: CriClient;
  api: ApiServer;
  kubelet: Kubelet;
  cgroups: PodCgroupManager;
  source?: ApiPodSource;
  nodeName: string;
  rootDir: string;
  podLogsDir: string;
  /** Every CreateContainer request the kubelet sent. */
  created: Parameters<typeof recordMemory>[0]['created'];
}

/**
 * What cgroupDriverFromRuntime answered, logged and put on the kubelet's /metrics registry (as
 * apps/kubelet's run-kubelet.ts calls it), and the RuntimeConfig reply it read.
 */
async function effectiveDriver(client: CriClient, configured: CgroupDriverSetting) {
  const log: { level: string; msg: string; fields: object }[] = [];
  const at = (level: string) => (fields: object, msg?: string) => log.push({ level, msg: msg ?? '', fields });
  const logger = { info: at('info'), warn: at('warn'), error: at('error') };
  const runtimeConfig = await client.runtimeConfig().catch((error: unknown) => ({ error: String(error) }));
  const registry = new Registry();
  const effective = await cgroupDriverFromRuntime(client, configured, { logger, registry });
  return { configured, effective, log, runtimeConfig, metrics: await registry.metrics() };
}

/**
 * containerd 2.1's user-namespaced pods need idmapped mounts of every file system their mounts
 * come from; the guest's 6.1 kernel idmaps ext4 (since 5.12) but not tmpfs (6.3), which /run is:
 * that node's containerd and kubelet live on a loop-mounted ext4 image instead.
 */
function ext4Home(dir: string): string {
  const image = join(dir, 'ext4.img');
  const home = join(dir, 'ext4');
  mkdirSync(home, { recursive: true });
  execFileSync('modprobe', ['loop']);
  execFileSync('truncate', ['-s', '512M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  execFileSync('mount', ['-o', 'loop', image, home]);
  return home;
}

async function startNode(options: NodeOptions, record: Record<string, unknown>): Promise<Node> {
  const home = options.userns ? ext4Home(options.dir) : options.dir;
  const containerd = await options.startContainerd({
    baseDir: join(home, 'containerd'),
    version: options.version,
  });
  step(`containerd ${options.version} up`);
  record.containerdConfig = readFileSync(join(home, 'containerd', 'config.toml'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('SystemdCgroup'))
    .map((line) => line.trim());
  const client = await createCriClient({ endpoint: containerd.endpoint });
  record.runtimeVersion = (await client.version()).runtimeVersion;
  const driver = await effectiveDriver(client, options.configuredDriver);
  record.driver = driver;
  const api = await startApiServer();
  const fs = await driverCgroupFilesystem(driver.effective, { mountRoot });
  // MemoryQoS on (as in v1.37) with TieredReservation: the slices' protection goes through systemd.
  const cgroups = new PodCgroupManager({
    fs,
    cgroupDriver: driver.effective,
    cgroupRoot: '/',
    podPidsLimit: 1024,
    memoryQoS: { reservationPolicy: 'TieredReservation' },
  });
  const nodeName = `sd-${options.version.replace('.', '')}-${process.pid}`;
  const rootDir = join(home, 'root');
  const podLogsDir = join(home, 'logs');
  // The kubelet's own cgroup (nodeagent-vm.service) has memory.swap.max: the swap controller is there.
  const nodeSwap = await detectNodeSwap(fs.version);
  record.nodeSwap = nodeSwap;
  const recording = recordingClient(client);
  const kubelet = new Kubelet({
    api: {
      statusWriter: apiPodStatusWriter(api.kubeConfig().makeApiClient(CoreV1Api)),
      objects: new PodObjectManager({
        strategy: 'Get',
        kubeConfig: api.kubeConfig(),
        core: api.kubeConfig().makeApiClient(CoreV1Api),
        resyncIntervalMs: 60_000,
      }),
    },
    node: {
      name: nodeName,
      rootDir,
      hostIPs: ['127.0.0.1'],
      memoryCapacity: memTotal(),
      swap: nodeSwap,
    },
    runtime: criPodRuntime(recording.client),
    config: parseKubeletConfiguration({
      podLogsDir,
      cgroupDriver: driver.effective,
      cgroupsPerQOS: true,
      cgroupRoot: '/',
      podPidsLimit: 1024,
      failSwapOn: false,
      memorySwap: { swapBehavior: 'LimitedSwap' },
      featureGates: { MemoryQoS: true },
      memoryReservationPolicy: 'TieredReservation',
    }).config,
    cgroups,
    pacing: { relistPeriodMs: 500, retryMs: 1000 },
    ...(options.userns
      ? {
          userNamespaces: await UserNamespaceAllocator.create({
            idsPerPod,
            kubeletMapping,
            maxPods: 110,
            podsDir: join(rootDir, 'pods'),
          }),
        }
      : {}),
  });
  return {
    options,
    containerd,
    client,
    api,
    kubelet,
    cgroups,
    nodeName,
    rootDir,
    podLogsDir,
    created: recording.created,
  };
}

const podsResource = (node: Node) => node.api.resource('v1', 'pods');
function storedPod(node: Node, name: string): Pod | undefined {
  return node.api.registry.find(podsResource(node), 'default', name) as unknown as Pod | undefined;
}
async function runningPod(node: Node, name: string): Promise<Pod> {
  return waitFor(`${name} Running`, () => {
    const stored = storedPod(node, name);
    return stored?.status?.phase === 'Running' && stored.status.containerStatuses?.[0]?.state?.running
      ? stored
      : undefined;
  });
}
const containerIdOf = (p: Pod) => p.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
async function containerPid(node: Node, containerId: string) {
  const info = JSON.parse(
    (await node.client.containerStatus({ containerId, verbose: true })).info.info ?? '{}',
  );
  return info as { pid: number; runtimeSpec: { linux: { cgroupsPath: string } } };
}

/** The kubelet started and fed by the API: the three QoS pods created there and Running. */
async function runQosPods(node: Node, pods: ReturnType<typeof qosPods>, busybox: string) {
  await node.kubelet.start();
  step('kubelet started');
  node.api.registry.create(node.api.resource('v1', 'nodes'), undefined, {
    metadata: { name: node.nodeName },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  });
  const kubelet = node.kubelet;
  node.source = new ApiPodSource(node.api.kubeConfig(), node.nodeName, {
    add: (p) => kubelet.addPod(p),
    update: (p) => kubelet.updatePod(p),
    remove: (p) => kubelet.removePod(p),
  });
  await node.source.start();
  for (const p of Object.values(pods)) {
    p.spec.containers[0]!.image = busybox;
    for (const v of p.spec.volumes ?? []) if (v.image) v.image.reference = busybox;
    node.api.registry.create(podsResource(node), 'default', {
      ...p,
      spec: { ...p.spec, nodeName: node.nodeName },
    });
  }
  const running: Record<string, Pod> = {};
  for (const [key, p] of Object.entries(pods)) running[key] = await runningPod(node, p.metadata.name);
  step('pods running');
  return running;
}

/** Per pod: its slice as systemd and the cgroup filesystem show it, and where its container runs. */
async function recordPods(node: Node, running: Record<string, Pod>) {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, p] of Object.entries(running)) {
    const containerId = containerIdOf(p);
    const info = await containerPid(node, containerId);
    const podPath = node.cgroups.podCgroupPath(p);
    const unit = node.cgroups.cgroupParent(p);
    out[key] = {
      uid: p.metadata.uid,
      qosClass: p.status?.qosClass,
      containerId,
      unit,
      podPath,
      procCgroup: readFileSync(`/proc/${info.pid}/cgroup`, 'utf8').trim(),
      cgroupsPath: info.runtimeSpec.linux.cgroupsPath,
      files: Object.fromEntries(limitFiles.map((f) => [f, raw(podPath, f)])),
      show: show(unit),
    };
  }
  return out;
}

/** Deleted through the API (graceful, as kubectl delete): the kubelet stops it and removes its slice. */
async function deleteAndRecord(node: Node, name: string, deleted: Record<string, unknown>) {
  node.api.registry.delete(podsResource(node), 'default', name, {});
  const dir = join(mountRoot, deleted.podPath as string);
  await waitFor(`the ${name} slice gone`, () => (existsSync(dir) ? undefined : true));
  // The directory goes with the stop job; systemd unloads the stopped transient unit on a later
  // garbage collection, and from then on `systemctl show` loads its implicit slice of that name
  // instead (never not-found: "Slice /kubepods/…", not libcontainer's description). Sampled until
  // then, for up to 20 s (guest time); what it then is gets recorded.
  const unloadBy = Date.now() + 20_000;
  const transient = () => show(deleted.unit as string).Description?.startsWith('libcontainer container');
  while (transient() && Date.now() < unloadBy) await sleep(250);
  return {
    dirExists: existsSync(dir),
    show: show(deleted.unit as string),
    listed: listSlices('kubepods*'),
    listedAll: listSlices('kubepods*', true),
  };
}

/** Runs inside a pod's container; its stdout, or the failure as text. */
async function exec(node: Node, containerId: string, script: string): Promise<string> {
  const r = await criPodRuntime(node.client).execSync(containerId, ['sh', '-c', script], 60 * speed);
  return r.exitCode === 0 ? r.stdout.toString().trim() : `exit ${r.exitCode}: ${r.stderr.toString()}`;
}

/** A hostUsers: false pod on the pod network with an emptyDir: what its user namespace looks like. */
async function recordUsernsPod(node: Node, busybox: string) {
  node.api.registry.create(podsResource(node), 'default', {
    metadata: { name: 'userns', namespace: 'default' },
    spec: {
      nodeName: node.nodeName,
      hostUsers: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  });
  const p = await runningPod(node, 'userns').catch((error: unknown) => ({ error: String(error) }));
  if ('error' in p) return { ...p, status: storedPod(node, 'userns')?.status };
  const containerId = containerIdOf(p);
  const podDir = join(node.rootDir, 'pods', p.metadata.uid!);
  const written = await exec(node, containerId, 'echo hi > /data/f && stat -c %u:%g /data/f');
  const onHost = statSync(join(podDir, 'volumes', 'kubernetes.io~empty-dir', 'data', 'f'));
  const status = readFileSync(`/proc/${(await containerPid(node, containerId)).pid}/status`, 'utf8');
  return {
    kubeletMapping,
    mappingsFile: JSON.parse(readFileSync(join(podDir, userNamespaceMappingsFile), 'utf8')),
    uidMap: await exec(node, containerId, 'cat /proc/self/uid_map'),
    gidMap: await exec(node, containerId, 'cat /proc/self/gid_map'),
    idInside: await exec(node, containerId, 'id -u; id -g'),
    hostUid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]),
    writtenInside: written,
    onHost: `${onHost.uid}:${onHost.gid}`,
    procCgroup: readFileSync(`/proc/${(await containerPid(node, containerId)).pid}/cgroup`, 'utf8').trim(),
    podPath: node.cgroups.podCgroupPath(p),
  };
}

/** The image volume as the BestEffort container sees it: mounted read-only, the image's files in it. */
async function recordImageVolume(node: Node, containerId: string) {
  return {
    mount: await exec(node, containerId, `grep ' ${imageVolume.mountPath} ' /proc/mounts`),
    write: await exec(node, containerId, `touch ${imageVolume.mountPath}/x 2>&1; echo $?`),
    imageBin: await exec(node, containerId, `ls ${imageVolume.mountPath}/bin | head -3`),
    ownBin: await exec(node, containerId, 'ls /bin | head -3'),
  };
}

/** Every pod let go; then which of the recorded slices are still there. */
async function releaseAll(node: Node, recorded: Record<string, Record<string, unknown>>) {
  await node.source?.stop();
  for (const p of node.kubelet.getPods()) node.kubelet.removePod(p);
  await node.kubelet.settle().catch(() => undefined);
  const dirs = Object.values(recorded).map((p) => join(mountRoot, p.podPath as string));
  const deadline = Date.now() + 60_000 * speed;
  while (dirs.some((d) => existsSync(d)) && Date.now() < deadline) await sleep(500);
  return {
    slicesLeft: dirs.filter((d) => existsSync(d)),
    unitsLeft: listSlices('kubepods-*pod*', true),
  };
}

async function stopNode(node: Node) {
  await node.kubelet.stop().catch(() => undefined);
  node.client.close();
  await node.api.close();
  await node.containerd.stop();
  if (node.options.userns) run('umount', join(node.options.dir, 'ext4'));
  step(`containerd ${node.options.version} stopped`);
}

/** One node's whole run (see the file comment); the record systemd-driver.test.ts asserts on. */
export async function runSystemdDriverNode(options: NodeOptions): Promise<Record<string, unknown>> {
  mkdirSync(options.dir, { recursive: true });
  const r: Record<string, unknown> = {};
  const node = await startNode(options, r);
  try {
    const busybox = node.containerd.images!.busybox.name;
    const pods = qosPods(options.imageVolume);
    const running = await runQosPods(node, pods, busybox);
    const out = await recordPods(node, running);
    r.pods = out;
    r.qos = Object.fromEntries(
      ['kubepods.slice', 'kubepods-burstable.slice', 'kubepods-besteffort.slice'].map((u) => [u, show(u)]),
    );
    r.status = run('systemctl', 'status', '--no-pager', '--full', '--lines=0', 'kubepods.slice');
    // MemoryQoS: the QoS slices' protection follows the active pods at the housekeeping period
    // (10 s): until both hold the pods' requests, kubepods 64 + 32 MiB (Guaranteed and Burstable),
    // burstable 32 MiB (a pass may have seen fewer pods), for at
    // most 60 s; what they then hold is recorded either way.
    const protectedBy = Date.now() + 60_000 * speed;
    const qosProtected = () =>
      raw('kubepods.slice', 'memory.min') === String(96 * 2 ** 20) &&
      raw('kubepods.slice/kubepods-burstable.slice', 'memory.low') === String(32 * 2 ** 20);
    while (!qosProtected() && Date.now() < protectedBy) await sleep(250);
    r.memory = await recordMemory({
      ...node,
      running,
      podByUid: (uid) => node.kubelet.getPods().find((p) => p.metadata.uid === uid),
    });
    step('MemoryQoS, swap and PSI recorded');
    if (options.imageVolume)
      r.imageVolume = await recordImageVolume(node, out.bestEffort!.containerId as string);
    step('recorded; deleting the Burstable pod');
    r.afterDelete = await deleteAndRecord(node, pods.burstable.metadata.name, out.burstable!);
    step('Burstable slice gone');
    const watched: Record<string, Record<string, unknown>> = { ...out };
    if (options.userns) {
      const userns = await recordUsernsPod(node, busybox);
      r.userns = userns;
      if ('podPath' in userns) watched.userns = { podPath: userns.podPath };
      step('user-namespaced pod recorded');
    }
    Object.assign(r, await releaseAll(node, watched));
  } finally {
    await stopNode(node);
  }
  return r;
}
