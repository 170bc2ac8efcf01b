/**
 * Runs INSIDE the micro-VM (root, the guest's own kernel, cgroup v2 mounted alone): the
 * nodeagent-kubelet binary (its bundle's path is argv[2]) started standalone on the fake CRI
 * runtime three times: with kubeletCgroups and systemCgroups set (its /proc/<pid>/cgroup, a
 * sleeper's and this scenario's read back, and the root cgroup's pids), with kubeletCgroups on a
 * cgroup that delegates a domain controller (the kernel's no-internal-processes refusal, logged), and
 * with systemCgroups "/" (refused). Prints one `SCENARIO-RESULT {json}` line.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { guestSpeedFactor } from '../../../../../tools/vm/speed';
import { type GuestKubelet, mountCgroup2, spawnGuestKubelet } from './guest-kubelet';

const cli = process.argv[2] as string;
const mount = '/sys/fs/cgroup';
// Unique per run, though the guest ends with the scenario.
const tag = `${process.pid}-${Date.now().toString(36)}`;
const names = { kubelet: `/na-kubelet-${tag}`, system: `/na-system-${tag}`, busy: `/na-busy-${tag}` };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One kubelet start with the given extra configuration lines. */
function startKubelet(dir: string, name: string, extra: string[], endpoint: string): GuestKubelet {
  return spawnGuestKubelet({
    cli,
    dir,
    name,
    endpoint,
    configLines: ['cgroupRoot: /', ...extra],
    flags: ['--cgroups-per-qos=false', '--enforce-node-allocatable='],
  });
}

/** Waits, with a hang guard scaled by the VM's speed, until `done` holds. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 240_000 * guestSpeedFactor();
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const cgroupOf = (pid: number | string) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();

/** The root cgroup's pids, each with whether it has an executable (kernel threads have none). */
function rootPids(): { pid: number; exe: boolean }[] {
  return readFileSync(join(mount, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      let exe = true;
      try {
        readlinkSync(`/proc/${l}/exe`);
      } catch {
        exe = false;
      }
      return { pid: Number(l), exe };
    });
}

async function stop(start: GuestKubelet): Promise<void> {
  start.child.kill('SIGTERM');
  await start.exited;
}

/** kubeletCgroups and systemCgroups set: where everything ends up. */
async function moved(dir: string, endpoint: string) {
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const start = startKubelet(
    dir,
    'moved',
    [`kubeletCgroups: ${names.kubelet}`, `systemCgroups: ${names.system}`],
    endpoint,
  );
  const pid = start.child.pid as number;
  await until('the kubelet in its cgroup', () => cgroupOf(pid) === `0::${names.kubelet}`);
  await until(
    'the sleeper in the system cgroup',
    () => cgroupOf(sleeper.pid as number) === `0::${names.system}`,
  );
  const result = {
    pid,
    kubelet: cgroupOf(pid),
    kubeletOomScoreAdj: readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(),
    sleeper: cgroupOf(sleeper.pid as number),
    scenario: cgroupOf('self'),
    root: rootPids(),
    kubeletProcs: readFileSync(join(mount, names.kubelet, 'cgroup.procs'), 'utf8').trim(),
  };
  await stop(start);
  sleeper.kill('SIGKILL');
  return result;
}

/**
 * kubeletCgroups on a cgroup whose subtree_control delegates memory: the kernel refuses, logged.
 * A domain controller it must be: with only threaded ones (pids, cpu) the cgroup could still
 * become a thread root and the kernel takes the process.
 */
async function busy(dir: string, endpoint: string) {
  mkdirSync(join(mount, names.busy, 'child'), { recursive: true });
  writeFileSync(join(mount, 'cgroup.subtree_control'), '+memory');
  writeFileSync(join(mount, names.busy, 'cgroup.subtree_control'), '+memory');
  const start = startKubelet(dir, 'busy', [`kubeletCgroups: ${names.busy}`], endpoint);
  const pid = start.child.pid as number;
  const cgroupBefore = cgroupOf(pid);
  await until('the refusal logged', () => start.stderr().includes('Failed to ensure state'));
  const result = {
    pid,
    cgroupBefore,
    cgroupAfter: cgroupOf(pid),
    lines: start
      .stderr()
      .split('\n')
      .filter((l) => l.includes('Failed to ensure state')),
  };
  await stop(start);
  return result;
}

/** systemCgroups "/": the start refused. */
async function root(dir: string, endpoint: string) {
  const start = startKubelet(dir, 'root', ['systemCgroups: /'], endpoint);
  const code = await start.exited;
  return {
    code,
    lines: start
      .stderr()
      .split('\n')
      .filter((l) => /ContainerManager|^Error: /.test(l)),
  };
}

async function main(): Promise<void> {
  await mountCgroup2(mount);
  const dir = mkdtempSync('/tmp/na-system-cgroups-');
  const scenarioBefore = cgroupOf('self');
  const fake = await FakeRuntime.start();
  try {
    const result = {
      names,
      scenarioPid: process.pid,
      scenarioBefore,
      moved: await moved(dir, fake.endpoint),
      busy: await busy(dir, fake.endpoint),
      root: await root(dir, fake.endpoint),
    };
    console.log(`SCENARIO-RESULT ${JSON.stringify(result)}`);
  } finally {
    await fake.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
