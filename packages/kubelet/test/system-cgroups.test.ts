/**
 * kubeletCgroups and systemCgroups as upstream v1.36's container manager applies them, against a
 * temporary directory standing for the cgroup mount and another for /proc: no process of this
 * host is moved. The kernel's side of a cgroup.procs write (the pid leaves its old cgroup) is
 * played by `kernel` below.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CgroupHierarchy, ProcsWriter } from '../src/cgroups/cgroup-process-move';
import { ensureProcessInCgroupWithOomScore } from '../src/cgroups/kubelet-process-cgroup';
import { ensureSystemCgroups } from '../src/cgroups/system-cgroups';
import {
  ensureStatePeriodMs,
  kubeletOomScorePeriodMs,
  startSystemContainers,
  systemCgroupsRootMessage,
} from '../src/cgroups/system-containers';

const kubeletPid = 4242;
const hostPidNs = 'pid:[4026531836]';

let dir: string;
let proc: string;
let mount: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'na-system-cgroups-'));
  proc = join(dir, 'proc');
  mount = join(dir, 'cgroup');
  await mkdir(mount, { recursive: true });
  await addProcess(1, { exe: '/sbin/init' });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A process in the fake /proc: no exe link for a kernel thread, init's pid namespace unless told. */
async function addProcess(
  pid: number,
  p: { exe?: string; pidNs?: string; cgroup?: string; oom?: string } = {},
): Promise<void> {
  const base = join(proc, String(pid));
  await mkdir(join(base, 'ns'), { recursive: true });
  await symlink(p.pidNs ?? hostPidNs, join(base, 'ns', 'pid'));
  if (p.exe) await symlink(p.exe, join(base, 'exe'));
  await writeFile(join(base, 'cgroup'), p.cgroup ?? '0::/\n');
  await writeFile(join(base, 'oom_score_adj'), p.oom ?? '0');
}

const lines = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);

/** The kernel's cgroup.procs write: the pid leaves every other cgroup.procs of its tree(s). */
function kernel(roots: string[], writes: string[] = []): ProcsWriter {
  return async (file, pid) => {
    writes.push(`${file} ${pid}`);
    for (const root of roots) {
      const rootProcs = join(root, 'cgroup.procs');
      if (rootProcs === file) continue;
      const left = (await lines(rootProcs)).filter((p) => p !== Number(pid));
      await writeFile(rootProcs, left.map((p) => `${p}\n`).join(''));
    }
    // A cgroup lists a pid once, however often it is written (cpu and cpuacct share a tree).
    const members = new Set([...(await lines(file)), Number(pid)]);
    await writeFile(file, `${[...members].join('\n')}\n`);
  };
}

/**
 * A refused write as Node reports it (what the kernel answers for a cgroup with delegated
 * controllers): fs.writeFile's failed write carries no path, as the micro-VM test saw.
 */
function refusing(code: string, errno: number): ProcsWriter {
  return async () => {
    throw Object.assign(new Error(`${code}: refused, write`), { code, errno, syscall: 'write' });
  };
}

const v2 = (): CgroupHierarchy => ({ mountRoot: mount, version: 2 });
const silent = { info() {}, error() {} };

async function unifiedHost(rootPids: number[]): Promise<void> {
  await writeFile(join(mount, 'cgroup.controllers'), 'cpu memory pids\n');
  await writeFile(join(mount, 'cgroup.procs'), rootPids.map((p) => `${p}\n`).join(''));
}

describe('kubeletCgroups: the kubelet moved into its cgroup, with its oom_score_adj', () => {
  it('creates the missing cgroup (controllers delegated by its parent) and writes the pid on cgroup v2', async () => {
    await unifiedHost([1, kubeletPid]);
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet', cgroup: '0::/\n' });
    const options = { hierarchy: v2(), procRoot: proc, logger: silent, writeProcs: kernel([mount]) };
    await ensureProcessInCgroupWithOomScore(options, kubeletPid, -999, '/kubelet.slice/kubelet.service');
    expect(await lines(join(mount, 'kubelet.slice/kubelet.service/cgroup.procs'))).toEqual([kubeletPid]);
    expect(await lines(join(mount, 'cgroup.procs'))).toEqual([1]);
    expect(await readFile(join(mount, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
    expect(await readFile(join(mount, 'kubelet.slice/cgroup.subtree_control'), 'utf8')).toBe(
      '+cpu +memory +pids',
    );
    // The leaf delegates nothing: it must hold the process (no internal processes on v2).
    await expect(
      readFile(join(mount, 'kubelet.slice/kubelet.service/cgroup.subtree_control')),
    ).rejects.toThrow();
    expect(await readFile(join(proc, String(kubeletPid), 'oom_score_adj'), 'utf8')).toBe('-999');
  });

  it('leaves a kubelet already in the cgroup where it is, and still sets its score', async () => {
    await unifiedHost([1]);
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet', cgroup: '0::/kubelet.slice\n' });
    const writes: string[] = [];
    const options = { hierarchy: v2(), procRoot: proc, logger: silent, writeProcs: kernel([mount], writes) };
    await ensureProcessInCgroupWithOomScore(options, kubeletPid, -999, '/kubelet.slice');
    expect(writes).toEqual([]);
    expect(await readFile(join(proc, String(kubeletPid), 'oom_score_adj'), 'utf8')).toBe('-999');
  });

  it("writes each v1 tree's cgroup.procs (cpuset's cpus and mems inherited, devices untouched)", async () => {
    for (const tree of ['cpu,cpuacct', 'memory', 'pids', 'systemd', 'devices', 'cpuset'])
      await mkdir(join(mount, tree), { recursive: true });
    await symlink('cpu,cpuacct', join(mount, 'cpu'));
    await writeFile(join(mount, 'cpuset/cpuset.cpus'), '0-1\n');
    await writeFile(join(mount, 'cpuset/cpuset.mems'), '0\n');
    const v1Cgroup =
      '4:cpu,cpuacct:/user.slice\n3:memory:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n';
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet', cgroup: v1Cgroup });
    const options = {
      hierarchy: { mountRoot: mount, version: 1 as const },
      procRoot: proc,
      logger: silent,
      writeProcs: kernel([]),
    };
    await ensureProcessInCgroupWithOomScore(options, kubeletPid, -999, '/kubelet');
    for (const tree of ['cpuset', 'memory', 'cpu,cpuacct', 'pids', 'systemd'])
      expect(await lines(join(mount, tree, 'kubelet/cgroup.procs'))).toEqual([kubeletPid]);
    expect(await readFile(join(mount, 'cpuset/kubelet/cpuset.cpus'), 'utf8')).toBe('0-1');
    expect(await readFile(join(mount, 'cpuset/kubelet/cpuset.mems'), 'utf8')).toBe('0');
    await expect(readFile(join(mount, 'devices/kubelet/cgroup.procs'))).rejects.toThrow();
  });

  it("gathers every failure in upstream's words: unsplit v1 accounting, then the move", async () => {
    for (const tree of ['cpu', 'memory']) await mkdir(join(mount, tree), { recursive: true });
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet', cgroup: '4:cpu:/a\n3:memory:/b\n' });
    const options = {
      hierarchy: { mountRoot: mount, version: 1 as const },
      procRoot: proc,
      logger: silent,
      writeProcs: refusing('EACCES', -13),
    };
    await expect(ensureProcessInCgroupWithOomScore(options, kubeletPid, -999, '/kubelet')).rejects.toThrow(
      `[failed to find container of PID ${kubeletPid}: cpu and memory cgroup hierarchy not unified.  cpu: /a, memory: /b, ` +
        `failed to move PID ${kubeletPid} (in "") to "/kubelet": failed to write ${kubeletPid}: write ${mount}/memory/kubelet/cgroup.procs: permission denied]`,
    );
    // The score is still applied.
    expect(await readFile(join(proc, String(kubeletPid), 'oom_score_adj'), 'utf8')).toBe('-999');
  });

  it('reports the no-internal-processes refusal (EBUSY) as upstream prints it', async () => {
    await unifiedHost([1, kubeletPid]);
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet' });
    const options = { hierarchy: v2(), procRoot: proc, logger: silent, writeProcs: refusing('EBUSY', -16) };
    await expect(
      ensureProcessInCgroupWithOomScore(options, kubeletPid, -999, '/system.slice'),
    ).rejects.toThrow(
      `failed to move PID ${kubeletPid} (in "/") to "/system.slice": failed to write ${kubeletPid}: ` +
        `write ${mount}/system.slice/cgroup.procs: device or resource busy`,
    );
  });

  it('leaves a kubelet outside init’s pid namespace alone (cgroup and score)', async () => {
    await unifiedHost([1]);
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet', pidNs: 'pid:[4026532999]', oom: '5' });
    const writes: string[] = [];
    const options = { hierarchy: v2(), procRoot: proc, logger: silent, writeProcs: kernel([mount], writes) };
    await ensureProcessInCgroupWithOomScore(options, kubeletPid, -999, '/kubelet.slice');
    expect(writes).toEqual([]);
    expect(await readFile(join(proc, String(kubeletPid), 'oom_score_adj'), 'utf8')).toBe('5');
  });

  it('names the missing pid namespaces, and a score that cannot be written', async () => {
    await unifiedHost([1]);
    const options = { hierarchy: v2(), procRoot: proc, logger: silent };
    await expect(ensureProcessInCgroupWithOomScore(options, 77, 0, undefined)).rejects.toThrow(
      'failed to find pid namespace of process 77',
    );
    await rm(join(proc, '1/ns/pid'));
    await expect(ensureProcessInCgroupWithOomScore(options, 77, 0, undefined)).rejects.toThrow(
      'failed to find pid namespace of init process',
    );
    await symlink(hostPidNs, join(proc, '1/ns/pid'));
    await addProcess(78, { exe: '/usr/bin/kubelet' });
    await rm(join(proc, '78/oom_score_adj'));
    await mkdir(join(proc, '78/oom_score_adj'));
    await expect(ensureProcessInCgroupWithOomScore(options, 78, -999, undefined)).rejects.toThrow(
      `failed to apply oom score -999 to PID 78: open ${proc}/78/oom_score_adj: is a directory`,
    );
  });
});

describe('systemCgroups: the root cgroup emptied of user processes', () => {
  it('moves every non-kernel process but pid 1 (the kubelet too), leaving kernel threads at the root', async () => {
    // 2 is kthreadd, 3 one of its threads: neither has an executable.
    await unifiedHost([1, 2, 3, 100, kubeletPid]);
    await addProcess(2);
    await addProcess(3);
    await addProcess(100, { exe: '/usr/sbin/sshd' });
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet' });
    const options = { hierarchy: v2(), procRoot: proc, logger: silent, writeProcs: kernel([mount]) };
    await ensureSystemCgroups(options, '/system');
    expect(await lines(join(mount, 'cgroup.procs'))).toEqual([1, 2, 3]);
    expect(await lines(join(mount, 'system/cgroup.procs'))).toEqual([100, kubeletPid]);
  });

  it('gives up after eleven rounds with the last failure, worded as upstream (its `<nil>` included)', async () => {
    await unifiedHost([1, 100, 101]);
    await addProcess(100, { exe: '/usr/sbin/sshd' });
    await addProcess(101, { exe: '/usr/sbin/cron' });
    const writes: string[] = [];
    const busy = refusing('EBUSY', -16);
    const writeProcs: ProcsWriter = (file, pid) => {
      writes.push(pid);
      return busy(file, pid);
    };
    const options = { hierarchy: v2(), procRoot: proc, logger: silent, writeProcs };
    await expect(ensureSystemCgroups(options, '/system')).rejects.toThrow(
      'failed to move PID 101 into the system container "/system": <nil>',
    );
    expect(writes).toHaveLength(22);
  });

  it('fails to list the root on v1 without a devices tree', async () => {
    await mkdir(join(mount, 'memory'));
    const options = { hierarchy: { mountRoot: mount, version: 1 as const }, procRoot: proc, logger: silent };
    await expect(ensureSystemCgroups(options, '/system')).rejects.toThrow(
      'failed to list PIDs for root: mountpoint for devices not found',
    );
  });

  it('lists the root from the devices tree on v1 and joins every tree', async () => {
    for (const tree of ['devices', 'memory', 'pids']) await mkdir(join(mount, tree));
    await writeFile(join(mount, 'devices/cgroup.procs'), '1\n100\n');
    await addProcess(100, { exe: '/usr/sbin/sshd' });
    const roots = ['devices', 'memory', 'pids'].map((t) => join(mount, t));
    const options = {
      hierarchy: { mountRoot: mount, version: 1 as const },
      procRoot: proc,
      logger: silent,
      writeProcs: kernel(roots),
    };
    await ensureSystemCgroups(options, 'system');
    expect(await lines(join(mount, 'memory/system/cgroup.procs'))).toEqual([100]);
    expect(await lines(join(mount, 'pids/system/cgroup.procs'))).toEqual([100]);
    expect(await lines(join(mount, 'devices/cgroup.procs'))).toEqual([1]);
  });
});

describe('the container manager loops', () => {
  const logged: { msg?: string; obj: object }[] = [];
  const logger = {
    info: (obj: object, msg?: string) => logged.push({ obj, msg }),
    error: (obj: object, msg?: string) => logged.push({ obj, msg }),
  };
  beforeEach(() => {
    logged.length = 0;
  });

  const start = (clock: FakeClock, fields: { kubeletCgroups: string; systemCgroups: string }) =>
    startSystemContainers({
      hierarchy: v2(),
      procRoot: proc,
      logger,
      writeProcs: kernel([mount]),
      oomScoreAdj: -999,
      pid: kubeletPid,
      clock,
      ...fields,
    });

  it('refuses systemCgroups "/" before anything runs', () => {
    expect(() => start(new FakeClock(), { kubeletCgroups: '', systemCgroups: '/' })).toThrow(
      systemCgroupsRootMessage,
    );
    expect(systemCgroupsRootMessage).toBe('system container cannot be root ("/")');
  });

  it('ensures both at once and again each minute, logging a failure and retrying', async () => {
    const clock = new FakeClock();
    await unifiedHost([1, kubeletPid]);
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet' });
    // The kubelet's score cannot be written yet: a directory stands where the file is.
    await rm(join(proc, `${kubeletPid}/oom_score_adj`));
    await mkdir(join(proc, `${kubeletPid}/oom_score_adj`));
    const stop = start(clock, { kubeletCgroups: '/kubelet', systemCgroups: '/system' });
    await clock.whenPending(1);
    // The kubelet went through /system (it sat at the root) into /kubelet, as upstream's order does.
    expect(await lines(join(mount, 'kubelet/cgroup.procs'))).toEqual([kubeletPid]);
    expect(logged).toEqual([
      {
        msg: 'Failed to ensure state',
        obj: expect.objectContaining({
          containerName: '/kubelet',
          err: expect.stringContaining('oom score -999'),
        }),
      },
    ]);
    // A process that lands at the root later, and the score file fixed: both handled a minute on.
    await writeFile(join(mount, 'cgroup.procs'), '1\n300\n');
    await addProcess(300, { exe: '/usr/bin/late' });
    await rm(join(proc, `${kubeletPid}/oom_score_adj`), { recursive: true });
    await clock.advanceAsync(ensureStatePeriodMs - 1, settle);
    expect(await lines(join(mount, 'system/cgroup.procs'))).not.toContain(300);
    await clock.advanceAsync(1, settle);
    await clock.whenPending(1);
    expect(await lines(join(mount, 'system/cgroup.procs'))).toContain(300);
    expect(await readFile(join(proc, `${kubeletPid}/oom_score_adj`), 'utf8')).toBe('-999');
    stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("without kubeletCgroups re-applies the kubelet's score every 5 minutes only", async () => {
    const clock = new FakeClock();
    await unifiedHost([1]);
    await addProcess(kubeletPid, { exe: '/usr/bin/kubelet', cgroup: '0::/system.slice/kubelet.service\n' });
    const stop = start(clock, { kubeletCgroups: '', systemCgroups: '' });
    await clock.whenPending(1);
    const score = join(proc, `${kubeletPid}/oom_score_adj`);
    expect(await readFile(score, 'utf8')).toBe('-999');
    await writeFile(score, '0');
    await clock.advanceAsync(kubeletOomScorePeriodMs - 1, settle);
    expect(await readFile(score, 'utf8')).toBe('0');
    await clock.advanceAsync(1, settle);
    await clock.whenPending(1);
    expect(await readFile(score, 'utf8')).toBe('-999');
    expect(logged).toEqual([]);
    stop();
  });
});

/** Lets file I/O started by a fired timer finish (real I/O, so a macrotask turn each time). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
