/**
 * Runs INSIDE the micro-VM booted with systemd as PID 1 on cgroup v2 (runInVm init 'systemd'; this
 * process is system.slice/nodeagent-vm.service): a node with cgroupDriver systemd. A private
 * containerd with runc's systemd cgroup driver (SystemdCgroup = true) and our Kubelet, whose pod
 * and QoS cgroups are systemd slices made through systemd's D-Bus API (driverCgroupFilesystem),
 * run a Guaranteed, a Burstable and a BestEffort pod. Recorded per pod: the slice (name, path,
 * files, systemctl show), where the container's process is, the runtime's cgroupsPath; then
 * `systemctl status kubepods.slice`; then the Burstable pod is deleted through the API and its
 * slice's fate recorded, then the rest. Prints `SCENARIO-RESULT <json>`; systemd-driver.test.ts
 * asserts. The pods use the host network (this is about cgroups; CNI is slow under TCG).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { createCriClient } from '@nodeagent/cri-client';
import { startApiServer } from '@nodeagent/testing';
import type { Pod } from '../../../src/api/pod-types';
import { driverCgroupFilesystem } from '../../../src/cgroups/driver-cgroup-filesystem';
import { PodCgroupManager } from '../../../src/cgroups/pod-cgroup-manager';
import { parseKubeletConfiguration } from '../../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../../src/cri/cri-pod-runtime';
import { Kubelet } from '../../../src/kubelet';
import { apiObjectSource } from '../../../src/sources/api-clients';
import { ApiPodSource } from '../../../src/sources/api-pod-source';
import { apiPodStatusWriter } from '../../../src/status/api-pod-status-writer';

const mountRoot = '/sys/fs/cgroup';
const speed = Number(process.env.NODEAGENT_VM_SPEED_FACTOR ?? '1') || 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const step = (what: string) => console.error(`[sdnode ${new Date().toISOString()}] ${what}`);
/** A command's stdout, or its failure as text (systemctl status exits 3 for an inactive unit). */
function run(cmd: string, ...args: string[]): string {
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

/** cAdvisor's MemoryCapacity: MemTotal. */
function memTotal(): number {
  return Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
}

interface RunningContainerd {
  endpoint: string;
  stop(): Promise<void>;
  images?: { busybox: { name: string } };
}
const toolsContainerd =
  process.argv[2] ?? fileURLToPath(new URL('../../../../../tools/containerd/containerd.ts', import.meta.url));

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 240_000 * speed;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
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
const pods = {
  guaranteed: pod('guaranteed', {
    requests: { cpu: '500m', memory: '64Mi' },
    limits: { cpu: '500m', memory: '64Mi' },
  }),
  burstable: pod('burstable', {
    requests: { cpu: '250m', memory: '32Mi' },
    limits: { cpu: '500m', memory: '128Mi' },
  }),
  bestEffort: pod('best-effort'),
};

async function main() {
  step('scenario started');
  const r: Record<string, unknown> = {
    pid1: readFileSync('/proc/1/comm', 'utf8').trim(),
    fstype: run('stat', '-f', '-c', '%T', mountRoot),
    selfCgroup: readFileSync('/proc/self/cgroup', 'utf8').trim(),
    // tools/vm's systemd boot starts only its own unit: not the host's enabled services.
    hostContainerdService: run('systemctl', 'show', '-P', 'ActiveState', 'containerd.service'),
    activeServices: run(
      'systemctl',
      'list-units',
      '--type=service',
      '--state=active',
      '--no-legend',
      '--plain',
    )
      .split('\n')
      .filter(Boolean).length,
  };
  const token = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = `/run/na-sdnode-${token}`;
  mkdirSync(dir, { recursive: true });
  // runc's systemd cgroup driver (tools/containerd's runc options).
  process.env.NODEAGENT_CONTAINERD_SYSTEMD_CGROUP = '1';
  const { startContainerd } = (await import(toolsContainerd)) as {
    startContainerd: (o: { baseDir: string }) => Promise<RunningContainerd>;
  };
  const containerd = await startContainerd({ baseDir: join(dir, 'containerd') });
  step('containerd up');
  r.containerdConfig = readFileSync(join(dir, 'containerd', 'config.toml'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('SystemdCgroup'))
    .map((line) => line.trim());
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const api = await startApiServer();
  const fs = await driverCgroupFilesystem('systemd', { mountRoot });
  const cgroups = new PodCgroupManager({ fs, cgroupDriver: 'systemd', cgroupRoot: '/', podPidsLimit: 1024 });
  const nodeName = `sd-${token}`;
  const kubelet = new Kubelet({
    api: {
      statusWriter: apiPodStatusWriter(api.kubeConfig().makeApiClient(CoreV1Api)),
      objects: apiObjectSource(api.kubeConfig().makeApiClient(CoreV1Api), { ttlMs: 0 }),
    },
    node: { name: nodeName, rootDir: join(dir, 'root'), hostIPs: ['127.0.0.1'], memoryCapacity: memTotal() },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      cgroupDriver: 'systemd',
      cgroupsPerQOS: true,
      cgroupRoot: '/',
      podPidsLimit: 1024,
    }).config,
    cgroups,
    pacing: { relistPeriodMs: 500, retryMs: 1000 },
  });
  const podsResource = api.resource('v1', 'pods');
  try {
    await kubelet.start();
    step('kubelet started');
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
    for (const p of Object.values(pods)) {
      p.spec.containers[0]!.image = containerd.images!.busybox.name;
      api.registry.create(podsResource, 'default', { ...p, spec: { ...p.spec, nodeName } });
    }
    const running: Record<string, Pod> = {};
    for (const [key, p] of Object.entries(pods)) {
      running[key] = await waitFor(`${p.metadata.name} Running`, () => {
        const stored = api.registry.find(podsResource, 'default', p.metadata.name) as unknown as
          | Pod
          | undefined;
        return stored?.status?.phase === 'Running' && stored.status.containerStatuses?.[0]?.state?.running
          ? stored
          : undefined;
      });
    }
    step('pods running');
    const out: Record<string, Record<string, unknown>> = {};
    for (const [key, p] of Object.entries(running)) {
      const containerId = p.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
      const info = JSON.parse(
        (await client.containerStatus({ containerId, verbose: true })).info.info ?? '{}',
      ) as {
        pid: number;
        runtimeSpec: { linux: { cgroupsPath: string } };
      };
      const podPath = cgroups.podCgroupPath(p);
      const unit = cgroups.cgroupParent(p);
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
    r.pods = out;
    r.qos = Object.fromEntries(
      ['kubepods.slice', 'kubepods-burstable.slice', 'kubepods-besteffort.slice'].map((unit) => [
        unit,
        show(unit),
      ]),
    );
    r.status = run('systemctl', 'status', '--no-pager', '--full', '--lines=0', 'kubepods.slice');
    step('recorded; deleting the Burstable pod');

    // Deleted through the API (graceful, as kubectl delete): the kubelet stops it and removes its slice.
    const burstable = out.burstable!;
    api.registry.delete(podsResource, 'default', pods.burstable.metadata.name, {});
    const burstableDir = join(mountRoot, burstable.podPath as string);
    await waitFor('the Burstable slice gone', () => (existsSync(burstableDir) ? undefined : true));
    // The directory goes with the stop job; systemd unloads a stopped transient unit on a later
    // garbage collection: sampled for up to 20 s (guest time), what it then is gets recorded.
    const unloadBy = Date.now() + 20_000;
    while (show(burstable.unit as string).LoadState !== 'not-found' && Date.now() < unloadBy)
      await sleep(250);
    r.afterDelete = {
      dirExists: existsSync(burstableDir),
      show: show(burstable.unit as string),
      listed: run('systemctl', 'list-units', '--no-legend', '--plain', '--type=slice', 'kubepods*'),
      listedAll: run(
        'systemctl',
        'list-units',
        '--all',
        '--no-legend',
        '--plain',
        '--type=slice',
        'kubepods*',
      ),
    };
    step('Burstable slice gone; stopping');
    await source.stop();
    for (const p of kubelet.getPods()) kubelet.removePod(p);
    await kubelet.settle().catch(() => undefined);
    const dirs = Object.values(out).map((p) => join(mountRoot, p.podPath as string));
    const deadline = Date.now() + 60_000 * speed;
    while (dirs.some((d) => existsSync(d)) && Date.now() < deadline) await sleep(500);
    r.slicesLeft = dirs.filter((d) => existsSync(d));
    r.unitsLeft = run(
      'systemctl',
      'list-units',
      '--all',
      '--no-legend',
      '--plain',
      '--type=slice',
      'kubepods-*pod*',
    );
  } finally {
    await kubelet.stop().catch(() => undefined);
    client.close();
    await api.close();
    await containerd.stop();
    step('containerd stopped');
  }
  console.log(`SCENARIO-RESULT ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
