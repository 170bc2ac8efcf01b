import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriError } from '@nodeagent/cri-client';
import type { LinuxContainerResources, MessageInput } from '@nodeagent/cri-client/types';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { type CgroupFilesystem, CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import type { PodRuntime } from '../src/cri/pod-runtime';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { PodResizer } from '../src/sync/pod-resizer';

// The resize path's CRI UpdatePodSandboxResources, upstream v1.36 (kuberuntime doPodResizeAction's
// setPodCgroupConfig): told before each pod cgroup write with that write applied; UNIMPLEMENTED is
// logged and the resize goes on; any other error fails the resize before the write; a write that
// fails is told back with what the cgroup still holds.

let dir: string;
let cgroups: PodCgroupManager;
let log: string[];
let logs: { level: string; msg: string; fields: object }[];
let events: string[];
let failQuotaWrite: boolean;

const uid = 'g';
const podPath = () => cgroups.podCgroupPath(guaranteed('200m'));

function guaranteed(cpu: string, generation = 1): Pod {
  return {
    metadata: { name: 'rs-guaranteed', namespace: 'rs', uid, generation },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } },
          resizePolicy: [
            { resourceName: 'cpu', restartPolicy: 'NotRequired' },
            { resourceName: 'memory', restartPolicy: 'NotRequired' },
          ],
        } as Container,
      ],
    },
  };
}

const runtimeState: PodRuntimeStatus = {
  uid,
  name: 'rs-guaranteed',
  namespace: 'rs',
  sandboxes: [{ id: 'sb1', attempt: 0, ready: true, createdAt: 1, ips: ['10.0.0.2'], hostNetwork: false }],
  containers: [
    {
      id: 'c1',
      name: 'c',
      state: 'running',
      restartCount: 0,
      hash: '',
      createdAt: 2,
      image: 'b',
      imageRef: 'x',
    },
  ],
};

const cgroupFile = (controller: string, file: string) =>
  readFile(join(dir, 'cg', controller, podPath(), file), 'utf8');

/** The sandbox request's resources as one line, with what the pod cgroup held at that moment. */
async function sandboxLine(
  resources: MessageInput<LinuxContainerResources> | null | undefined,
): Promise<string> {
  const r = resources ?? {};
  const held = `${await cgroupFile('cpu', 'cpu.cfs_quota_us')}/${await cgroupFile('cpu', 'cpu.shares')}`;
  return `sandbox quota=${r.cpuQuota} shares=${r.cpuShares} memory=${r.memoryLimitInBytes} (cgroup quota/shares ${held})`;
}

function resizer(answer: (() => never) | undefined): PodResizer {
  const runtime: Pick<PodRuntime, 'updateContainerResources' | 'updatePodSandboxResources'> = {
    updateContainerResources: async (id, resources) => {
      log.push(`container ${id} quota=${resources.cpuQuota} shares=${resources.cpuShares}`);
    },
    updatePodSandboxResources: async (request) => {
      log.push(`${request.podSandboxId} ${await sandboxLine(request.resources)}`);
      answer?.();
    },
  };
  // The pod cgroup's writes, failed on demand (a cgroup the kernel refuses).
  const fs = new CgroupV1Filesystem(join(dir, 'cg'));
  const failing: CgroupFilesystem = Object.assign(Object.create(fs) as CgroupFilesystem, {
    ensure: async (path: string, resources?: { cpuQuotaUs?: number }) => {
      if (failQuotaWrite && resources?.cpuQuotaUs === 30000)
        throw new Error('write cpu.cfs_quota_us: invalid argument');
      return fs.ensure(path, resources);
    },
  });
  cgroups = new PodCgroupManager({ fs: failing, cgroupDriver: 'cgroupfs', cgroupRoot: '/' });
  const record =
    (level: string) =>
    (fields: object, msg = '') =>
      logs.push({ level, msg, fields });
  return new PodResizer({
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
    rootDir: join(dir, 'root'),
    cgroups,
    runtime,
    containerResources: { memoryCapacity: 8 * 1024 ** 3, cpuCFSQuota: true, cpuCFSQuotaPeriodUs: 100_000 },
    clock: new FakeClock(Date.UTC(2026, 0, 1)),
    recordEvent: (_p, type, reason, message) => events.push(`${type} ${reason} ${message}`),
    node: { allocatable: { cpu: '2', memory: '24683072Ki' } },
    pods: { activePods: () => [], resync: () => undefined },
  });
}

/** Starts the pod at 200m, resizes it to 300m (its quota write fails with failQuotaWrite) and actuates. */
async function resizeTo300m(answer?: () => never): Promise<PodResizer> {
  const r = resizer(answer);
  await r.start();
  const before = guaranteed('200m');
  await r.allocate(before);
  await cgroups.ensurePod(before);
  await writeFile(join(dir, 'cg', 'memory', podPath(), 'memory.usage_in_bytes'), '1000');
  await r.actuate(before, runtimeState, async () => undefined);
  const allocated = await r.allocate(guaranteed('300m', 2));
  await r.actuate(allocated, runtimeState, async () => {
    throw new Error('no kill expected');
  });
  await r.store.settled();
  return r;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-sandbox-notice-${process.pid}-`));
  for (const c of ['cpu', 'memory', 'pids']) await mkdir(join(dir, 'cg', c), { recursive: true });
  log = [];
  logs = [];
  events = [];
  failQuotaWrite = false;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const unimplemented = () => {
  throw new CriError(
    'UpdatePodSandboxResources',
    12,
    'unknown method UpdatePodSandboxResources for service runtime.v1.RuntimeService',
    'unix:///run/containerd/containerd.sock',
  );
};

describe('a CPU resize tells the runtime the pod’s resources around each pod cgroup write', () => {
  it('before the quota write, then before the shares write, each with the values that write applies; then the container', async () => {
    await resizeTo300m();
    expect(log).toEqual([
      'sb1 sandbox quota=30000 shares=204 memory=67108864 (cgroup quota/shares 20000/204)',
      'sb1 sandbox quota=30000 shares=307 memory=67108864 (cgroup quota/shares 30000/204)',
      'container c1 quota=30000 shares=307',
    ]);
    expect(await cgroupFile('cpu', 'cpu.cfs_quota_us')).toBe('30000');
  });

  it('UNIMPLEMENTED (containerd 1.6 and 2.1): logged with upstream’s words, and the resize completes', async () => {
    const r = await resizeTo300m(unimplemented);
    expect(log.filter((l) => l.startsWith('container'))).toEqual(['container c1 quota=30000 shares=307']);
    expect(await cgroupFile('cpu', 'cpu.shares')).toBe('307');
    expect(r.conditions.inProgress(uid)?.reason).toBeUndefined();
    const err =
      'rpc error: code = Unimplemented desc = unknown method UpdatePodSandboxResources for service runtime.v1.RuntimeService';
    const perWrite = [
      {
        level: 'error',
        msg: 'UpdatePodSandboxResources from runtime service failed',
        fields: { err, podSandboxID: 'sb1' },
      },
      {
        level: 'info',
        msg: 'updatePodSandboxResources failed: unimplemented; this call is best-effort: proceeding with resize',
        fields: { sandboxID: 'sb1' },
      },
    ];
    // Two pod cgroup writes (quota, shares): two calls, each answered UNIMPLEMENTED.
    expect(logs).toEqual([...perWrite, ...perWrite]);
    expect(events.map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual(['Normal ResizeStarted']);
  });

  it('any other error (a runtime or NRI plugin refusing) fails the resize before the pod cgroup is written', async () => {
    const r = await resizeTo300m(() => {
      throw new CriError('UpdatePodSandboxResources', 9, 'refused by plugin', 'unix:///x');
    });
    expect(log).toEqual([
      'sb1 sandbox quota=30000 shares=204 memory=67108864 (cgroup quota/shares 20000/204)',
    ]);
    expect(await cgroupFile('cpu', 'cpu.cfs_quota_us')).toBe('20000');
    const message =
      'updatePodSandboxResources failed for sanboxID "sb1": rpc error: code = FailedPrecondition desc = refused by plugin';
    expect(r.conditions.inProgress(uid)).toMatchObject({ reason: 'Error', message });
    expect(events.filter((e) => e.startsWith('Warning'))).toEqual([
      expect.stringMatching(/^Warning ResizeError .*refused by plugin/),
    ]);
  });

  it('a pod cgroup write that fails is told back with what the cgroup still holds', async () => {
    failQuotaWrite = true;
    const r = await resizeTo300m();
    expect(log).toEqual([
      'sb1 sandbox quota=30000 shares=204 memory=67108864 (cgroup quota/shares 20000/204)',
      'sb1 sandbox quota=20000 shares=204 memory=67108864 (cgroup quota/shares 20000/204)',
    ]);
    expect(r.conditions.inProgress(uid)).toMatchObject({
      reason: 'Error',
      message: 'write cpu.cfs_quota_us: invalid argument',
    });
  });

  it('a pod without a sandbox in the runtime’s view is resized without telling it', async () => {
    const r = resizer(undefined);
    await r.start();
    const before = guaranteed('200m');
    await r.allocate(before);
    await cgroups.ensurePod(before);
    const noSandbox = { ...runtimeState, sandboxes: [] };
    await r.actuate(before, noSandbox, async () => undefined);
    await r.actuate(await r.allocate(guaranteed('300m', 2)), noSandbox, async () => undefined);
    await r.store.settled();
    expect(log).toEqual(['container c1 quota=30000 shares=307']);
  });
});
