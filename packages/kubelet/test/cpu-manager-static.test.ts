import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { defaultKubeletConfiguration } from '../src/config/kubelet-configuration';
import { CpuManager, type CpuManagerConfig, type ReconciledContainer } from '../src/cpumanager/cpu-manager';
import { cpuManagerAdmitHandler } from '../src/cpumanager/cpu-manager-admit';
import { CpuSet } from '../src/cpumanager/cpu-set';
import { discoverCpuTopology } from '../src/cpumanager/cpu-topology';
import { withContainerCpusets } from '../src/cpumanager/cpuset-runtime';
import { withReservedSystemCpus } from '../src/resource-managers';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-cpuman-${process.pid}-`));
});
/** Every manager a test made: stopped before its directory goes, so no reconcile writes into a removed one. */
const made: CpuManager[] = [];
afterEach(async () => {
  for (const m of made.splice(0)) m.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A /sys with `cores` cores of `threads` hyper-threads on one socket, numbered as Linux does:
 * core c holds CPUs c, c + cores, … (the layout of the upstream node recorded below).
 */
async function fakeSysfs(cores: number, threads: number): Promise<string> {
  const root = join(dir, 'sys');
  const cpuDir = join(root, 'devices/system/cpu');
  const count = cores * threads;
  await mkdir(cpuDir, { recursive: true });
  await writeFile(join(cpuDir, 'online'), `0-${count - 1}\n`);
  for (let cpu = 0; cpu < count; cpu++) {
    const topology = join(cpuDir, `cpu${cpu}`, 'topology');
    await mkdir(topology, { recursive: true });
    await writeFile(join(topology, 'physical_package_id'), '0\n');
    await writeFile(join(topology, 'core_id'), `${cpu % cores}\n`);
  }
  await mkdir(join(root, 'devices/system/node/node0'), { recursive: true });
  await writeFile(join(root, 'devices/system/node/node0/cpulist'), `0-${count - 1}\n`);
  return root;
}

const pod = (uid: string, cpu: string, limits = true): Pod => ({
  metadata: { uid, name: uid, namespace: 'default' },
  spec: {
    containers: [
      {
        name: 'c',
        resources: limits
          ? { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } }
          : { requests: { cpu } },
      },
    ],
  },
});

async function manager(overrides: Partial<CpuManagerConfig> & { cores?: number; threads?: number } = {}) {
  const { cores = 8, threads = 2, ...rest } = overrides;
  const m = new CpuManager({
    policyName: 'static',
    policyOptions: {},
    reconcilePeriodMs: 10_000,
    reservedSystemCpus: new CpuSet(),
    reservedCpuMilli: 2000,
    optionGates: { alpha: false, beta: true },
    rootDir: dir,
    topology: discoverCpuTopology(await fakeSysfs(cores, threads)),
    ...rest,
  });
  made.push(m);
  return m;
}

/** A kubelet view for start(): the given pods active, each container running under id `<uid>-<name>`. */
function runtimeView(pods: Pod[], updates: [string, string][] = []) {
  return {
    activePods: () => pods,
    containers: (uid: string): ReconciledContainer[] =>
      (pods.find((p) => p.metadata.uid === uid)?.spec.containers ?? []).map((c) => ({
        name: c.name,
        id: `${uid}-${c.name}`,
        state: 'running' as const,
      })),
    updateCpuset: async (id: string, cpus: string) => {
      updates.push([id, cpus]);
    },
  };
}

describe('CPU topology from sysfs', () => {
  it('groups hyper-threads into cores named by their lowest CPU', async () => {
    const topology = discoverCpuTopology(await fakeSysfs(8, 2));
    expect(topology.cpus().toString()).toBe('0-15');
    expect(topology.cpusPerCore()).toBe(2);
    expect(topology.details.get(9)).toEqual({ socketId: 0, coreId: 1, numaNodeId: 0 });
  });
});

describe('reservedSystemCPUs', () => {
  const base = { ...defaultKubeletConfiguration(), kubeReserved: { cpu: '500m', memory: '1Gi' } };

  it("overrides kubeReserved and systemReserved cpu with the list's size, as upstream's server.go", async () => {
    const topology = discoverCpuTopology(await fakeSysfs(2, 2));
    const applied = withReservedSystemCpus({ ...base, reservedSystemCPUs: '0,2' }, () => topology);
    expect(applied.kubeReserved).toEqual({ memory: '1Gi' });
    expect(applied.systemReserved).toEqual({ cpu: '2' });
    expect(withReservedSystemCpus(base, () => topology)).toBe(base);
  });

  it("refuses a list beyond the online CPUs in upstream's words", async () => {
    const topology = discoverCpuTopology(await fakeSysfs(2, 1));
    expect(() => withReservedSystemCpus({ ...base, reservedSystemCPUs: '0-3' }, () => topology)).toThrow(
      'reserved-cpus: 0-3 is not a subset of online-cpus: 0-1',
    );
  });
});

describe('static policy', () => {
  it('reproduces the checkpoint an upstream node wrote: reserved core 0, then whole cores packed', async () => {
    // The recorded node: 16 CPUs (8 cores x 2), kubeReserved.cpu 1 + systemReserved.cpu 1, a
    // Guaranteed pod with 2 CPUs and one with 4.
    const cpus = await manager();
    cpus.start(runtimeView([]));
    const admit = cpuManagerAdmitHandler(cpus);
    const a = pod('088fe178-cec9-4eb9-ba3c-cf45cba46371', '2');
    const b = pod('681eca58-a216-4ec4-a57b-941cad3c4e0f', '4');
    a.spec.containers[0]!.name = 'qos-demo-ctr';
    b.spec.containers[0]!.name = 'qos-demo-ctr';
    expect(admit.admit({ pod: a, otherPods: [] })).toEqual({ admit: true });
    expect(admit.admit({ pod: b, otherPods: [a] })).toEqual({ admit: true });
    expect(await readFile(join(dir, 'cpu_manager_state'), 'utf8')).toBe(
      '{"policyName":"static","defaultCpuSet":"0,4-8,12-15","entries":{"088fe178-cec9-4eb9-ba3c-cf45cba46371":{"qos-demo-ctr":"1,9"},"681eca58-a216-4ec4-a57b-941cad3c4e0f":{"qos-demo-ctr":"2-3,10-11"}},"checksum":2993692383}',
    );
    expect(cpus.cpuset(a.metadata.uid!, 'qos-demo-ctr')).toBe('1,9');
  });

  it('takes reservedSystemCPUs as given and rounds a fractional reservation up', async () => {
    const given = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('1'),
      reservedCpuMilli: 1000,
    });
    expect(given.policy.name === 'static' && given.policy.reserved.toString()).toBe('1');
    const rounded = await manager({ reservedCpuMilli: 1500 });
    expect(rounded.policy.name === 'static' && rounded.policy.reserved.toString()).toBe('0,8');
  });

  it("refuses static without reserved CPUs, unknown policies and options, in upstream's words", async () => {
    await expect(manager({ reservedCpuMilli: 0 })).rejects.toThrow(
      '[cpumanager] unable to determine reserved CPU resources for static policy',
    );
    await expect(manager({ policyName: 'dynamic' })).rejects.toThrow('unknown policy: "dynamic"');
    await expect(manager({ policyOptions: { 'no-such': 'true' } })).rejects.toThrow(
      'new static policy error: unknown CPU Manager Policy option: "no-such"',
    );
    await expect(manager({ policyOptions: { 'align-by-socket': 'true' } })).rejects.toThrow(
      'new static policy error: CPU Manager Policy Alpha-level Options not enabled, but option "align-by-socket" provided',
    );
    await expect(
      manager({ policyName: 'none', policyOptions: { 'full-pcpus-only': 'true' } }),
    ).rejects.toThrow(
      'new none policy error: None policy: received unsupported options=map[full-pcpus-only:true]',
    );
    const ignored = await manager({ policyOptions: { 'distribute-cpus-across-numa': 'true' } });
    expect(ignored.ignoredOptions).toEqual(['distribute-cpus-across-numa']);
  });

  it('gives the shared pool to containers that are not Guaranteed with whole CPUs', async () => {
    const cpus = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('0'),
      reservedCpuMilli: 1000,
    });
    cpus.start(runtimeView([]));
    const admit = cpuManagerAdmitHandler(cpus);
    for (const p of [pod('burstable', '1', false), pod('fraction', '500m')]) {
      expect(admit.admit({ pod: p, otherPods: [] })).toEqual({ admit: true });
      expect(cpus.cpuset(p.metadata.uid!, 'c')).toBe('0-1');
    }
    admit.admit({ pod: pod('whole', '1'), otherPods: [] });
    expect(cpus.cpuset('whole', 'c')).toBe('1');
    expect(cpus.cpuset('burstable', 'c')).toBe('0');
  });

  it("refuses a pod the free CPUs cannot hold with upstream's reason and message", async () => {
    const cpus = await manager({ cores: 4, threads: 2, reservedCpuMilli: 1000 });
    cpus.start(runtimeView([]));
    expect(cpuManagerAdmitHandler(cpus).admit({ pod: pod('big', '8'), otherPods: [] })).toEqual({
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message:
        'Allocate failed due to not enough cpus available to satisfy request: requested=8, available=7, which is unexpected',
    });
  });

  it('full-pcpus-only refuses a request that is not whole cores with SMTAlignmentError', async () => {
    const cpus = await manager({
      cores: 4,
      threads: 2,
      reservedCpuMilli: 1000,
      policyOptions: { 'full-pcpus-only': 'true' },
    });
    cpus.start(runtimeView([]));
    const admit = cpuManagerAdmitHandler(cpus);
    expect(admit.admit({ pod: pod('odd', '1'), otherPods: [] })).toEqual({
      admit: false,
      reason: 'SMTAlignmentError',
      message: 'SMT Alignment Error: requested 1 cpus not multiple cpus per core = 2',
    });
    // Reserved CPU 0 takes its sibling 4 out of the physical CPUs: 6 remain for whole cores.
    expect(admit.admit({ pod: pod('eight', '8'), otherPods: [] })).toEqual({
      admit: false,
      reason: 'SMTAlignmentError',
      message:
        'SMT Alignment Error: not enough free physical CPUs: available physical CPUs = 6, requested CPUs = 8, CPUs per core = 2',
    });
    expect(admit.admit({ pod: pod('two', '2'), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('two', 'c')).toBe('1,5');
  });

  it('reconciles running containers to their cpuset and releases CPUs of pods no longer active', async () => {
    const clock = new FakeClock();
    const cpus = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('0'),
      reservedCpuMilli: 1000,
      clock,
    });
    const pods = [pod('shared', '100m', false), pod('exclusive', '1')];
    const updates: [string, string][] = [];
    const view = runtimeView(pods, updates);
    cpus.start(view);
    const admit = cpuManagerAdmitHandler(cpus);
    for (const p of pods) expect(admit.admit({ pod: p, otherPods: [] })).toEqual({ admit: true });
    // The exclusive container was created with its CPUs; the shared one before the allocation.
    const runtime = withContainerCpusets(
      {
        createContainer: async (
          _sandbox: string,
          config: { labels?: Record<string, string> },
          _sandboxConfig: unknown,
        ) => `${config.labels?.['io.kubernetes.pod.uid']}-c`,
      },
      cpus,
    );
    await runtime.createContainer(
      's',
      { labels: { 'io.kubernetes.pod.uid': 'exclusive', 'io.kubernetes.container.name': 'c' } },
      {},
    );
    clock.advance(10_000);
    await cpus.reconcile();
    expect(updates).toEqual([['shared-c', '0']]);
    // The exclusive pod goes away: its CPU returns to the shared pool and to the shared container.
    pods.pop();
    updates.length = 0;
    await cpus.reconcile();
    expect(updates).toEqual([['shared-c', '0-1']]);
    expect(await readFile(join(dir, 'cpu_manager_state'), 'utf8')).toContain(
      '"defaultCpuSet":"0-1","checksum"',
    );
    cpus.stop();
  });

  it('logs a checkpoint it cannot write after the start and keeps going, as upstream', async () => {
    const clock = new FakeClock();
    const logged: string[] = [];
    const cpus = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('0'),
      reservedCpuMilli: 1000,
      clock,
      logger: { info: (_fields, msg) => logged.push(msg ?? '') },
    });
    cpus.start(runtimeView([]));
    cpuManagerAdmitHandler(cpus).admit({ pod: pod('gone', '1'), otherPods: [] });
    await rm(dir, { recursive: true, force: true });
    // The pod is not active: the pass releases its CPU and cannot write the checkpoint.
    clock.advance(10_000);
    await cpus.reconcile();
    expect(logged).toContain('Store state to checkpoint error');
    expect(cpus.cpuset('gone', 'c')).toBe('0-1');
  });

  it('keeps restored assignments of pods not seen again until the pod sources are ready', async () => {
    const clock = new FakeClock();
    const cpus = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('0'),
      reservedCpuMilli: 1000,
      clock,
    });
    cpus.start({ ...runtimeView([]), waitForSources: true });
    cpuManagerAdmitHandler(cpus).admit({ pod: pod('restored', '1'), otherPods: [] });
    // The pod is not among the active ones (its source has not delivered it yet): kept.
    clock.advance(10_000);
    await cpus.reconcile();
    expect(cpus.cpuset('restored', 'c')).toBe('1');
    cpus.markSourcesReady();
    await cpus.reconcile();
    expect(cpus.cpuset('restored', 'c')).toBe('0-1');
    cpus.stop();
  });

  it('hands the cpuset to CreateContainer in LinuxContainerResources.cpuset_cpus, without a quota when exclusive', async () => {
    const cpus = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('0'),
      reservedCpuMilli: 1000,
      disableQuotaWithExclusiveCpus: true,
    });
    cpus.start(runtimeView([]));
    const admit = cpuManagerAdmitHandler(cpus);
    admit.admit({ pod: pod('g', '1'), otherPods: [] });
    admit.admit({ pod: pod('b', '500m', false), otherPods: [] });
    const seen: unknown[] = [];
    const runtime = withContainerCpusets(
      {
        createContainer: async (_sandbox: string, config: unknown, _sandboxConfig: unknown) => {
          seen.push(config);
          return 'id';
        },
      },
      cpus,
    );
    const created = async (uid: string, quota: number) => {
      const labels = { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': 'c' };
      await runtime.createContainer(
        's',
        { labels, linux: { resources: { cpuPeriod: 100000, cpuQuota: quota } } },
        {},
      );
      return (seen.pop() as { linux: { resources: object } }).linux.resources;
    };
    // DisableCPUQuotaWithExclusiveCPUs: the exclusive container's quota is -1 (upstream's
    // calculateLinuxResources); a shared-pool container keeps its own.
    expect(await created('g', 100000)).toEqual({ cpuPeriod: 100000, cpuQuota: -1, cpusetCpus: '1' });
    expect(await created('b', 50000)).toEqual({ cpuPeriod: 100000, cpuQuota: 50000, cpusetCpus: '0' });
  });

  it('refuses a restart whose checkpoint does not fit the machine, as upstream validateState', async () => {
    await writeFile(
      join(dir, 'cpu_manager_state'),
      '{"policyName":"static","defaultCpuSet":"1","checksum":0}',
    );
    const cpus = await manager({
      cores: 2,
      threads: 1,
      reservedSystemCpus: CpuSet.parse('0'),
      reservedCpuMilli: 1000,
    });
    expect(() => cpus.start(runtimeView([]))).toThrow(
      'start cpu manager error: not all reserved cpus: "0" are present in defaultCpuSet: "1"',
    );
  });

  it('keeps policy none inert: an empty cpuset and no allocation', async () => {
    const cpus = await manager({ policyName: 'none', reservedCpuMilli: 0 });
    cpus.start(runtimeView([]));
    expect(cpuManagerAdmitHandler(cpus).admit({ pod: pod('g', '1'), otherPods: [] })).toEqual({
      admit: true,
    });
    expect(cpus.cpuset('g', 'c')).toBe('');
  });
});
