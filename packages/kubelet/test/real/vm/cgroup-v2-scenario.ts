/**
 * Runs INSIDE the micro-VM (root, Debian's cloud kernel, nothing else using cgroups): mounts the
 * unified hierarchy alone at /sys/fs/cgroup (no v1 hierarchy is mounted in the guest, so every
 * controller is v2's), then drives the kubelet's cgroup code under a private cgroup root: the QoS
 * tiers and four pods, a pod resize, stats of processes placed in a pod, pod removal. Next to
 * each result it records the kernel's own files. Prints one line `SCENARIO-RESULT <json>`;
 * cgroup-v2.test.ts does the asserting.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../../src/api/pod-types';
import { detectCgroupFilesystem } from '../../../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../../../src/cgroups/pod-cgroup-manager';
import { readPodCgroupConfig, resizePodCgroup } from '../../../src/cgroups/pod-cgroup-resize';
import { signalObservations } from '../../../src/eviction/signal-observations';
import { readCgroupV2Stats } from '../../../src/stats/cgroup-v2-stats';
import { type HostSources, systemHostSources } from '../../../src/stats/host-sources';
import { HostNodeStatsProvider } from '../../../src/stats/node-stats-provider';

const mountRoot = '/sys/fs/cgroup';
const speed = Number(process.env.NODEAGENT_VM_SPEED_FACTOR ?? '1') || 1;
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const raw = (dir: string, file: string) => readFileSync(join(mountRoot, dir, file), 'utf8');
const rawFiles = (dir: string, files: readonly string[]) =>
  Object.fromEntries(files.map((file) => [file, raw(dir, file).trim()]));
const limitFiles = ['cpu.weight', 'cpu.max', 'memory.max', 'memory.min', 'memory.high', 'pids.max'] as const;
const statFiles = [
  'cpu.stat',
  'memory.current',
  'memory.max',
  'memory.stat',
  'io.stat',
  'cpu.pressure',
  'memory.pressure',
  'io.pressure',
] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pod(
  name: string,
  resources: { requests?: Record<string, string>; limits?: Record<string, string> },
): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `${name}-0000-4000-8000-cg2` },
    spec: { containers: [{ name: 'c', image: 'busybox', resources }] },
  } as Pod;
}

const pods = {
  guaranteed: pod('guaranteed', {
    requests: { cpu: '500m', memory: '64Mi' },
    limits: { cpu: '500m', memory: '64Mi' },
  }),
  work: pod('work', { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '1', memory: '256Mi' } }),
  requestsOnly: pod('requests-only', { requests: { cpu: '100m', memory: '16Mi' } }),
  bestEffort: pod('best-effort', {}),
};

/** Waits (a hang guard scaled by the VM's speed) until the process is stopped (state T). */
async function untilStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 120_000 * speed;
  while (Date.now() < deadline) {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    if (state === 'T') return;
    await sleep(50);
  }
  throw new Error(`process ${pid} never stopped itself`);
}

/** Starts `script` with its shell already moved into the cgroup, so all it does is charged there. */
function startIn(dir: string, script: string) {
  const child = spawn('sh', ['-c', `echo $$ > ${join(mountRoot, dir, 'cgroup.procs')} && { ${script}; }`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { pid: child.pid ?? -1, exited };
}

/**
 * The kernel's files, our reading, the kernel's files again, until both readings of the files are
 * the same (a PSI average moves every 2 s; memory.stat is flushed in batches): ours is then of
 * that one state.
 */
async function stableStats(dir: string) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = rawFiles(dir, statFiles);
    const ours = await readCgroupV2Stats(join(mountRoot, dir), new Date().toISOString());
    const after = rawFiles(dir, statFiles);
    if (JSON.stringify(before) === JSON.stringify(after))
      return { attempts: attempt + 1, kernel: before, ours };
    await sleep(100);
  }
  throw new Error(`the stats of ${dir} never held still`);
}

async function main() {
  const r: Record<string, unknown> = {};
  if (!existsSync(join(mountRoot, 'cgroup.controllers'))) sh('mount', '-t', 'cgroup2', 'none', mountRoot);
  r.mount = {
    fstype: sh('stat', '-f', '-c', '%T', mountRoot),
    selfCgroup: readFileSync('/proc/self/cgroup', 'utf8').trim(),
    v1Mounts: readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((line) => line.split(' ')[2] === 'cgroup'),
    rootControllers: raw('', 'cgroup.controllers').trim(),
  };
  const fs = await detectCgroupFilesystem(mountRoot);
  r.version = fs.version;

  const cgroupRoot = `/na-cg2-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  r.cgroupRoot = cgroupRoot;
  const manager = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot, podPidsLimit: 100 });
  await manager.start();
  await manager.updateQOSCgroups(Object.values(pods));
  const workPath = manager.podCgroupPath(pods.work);
  const bestEffortPath = manager.podCgroupPath(pods.bestEffort);
  const podResults: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(pods)) {
    const parent = await manager.ensurePod(p);
    const path = manager.podCgroupPath(p);
    podResults[key] = {
      parent,
      path,
      kernel: rawFiles(path, [...limitFiles, 'cgroup.controllers']),
      ours: await readPodCgroupConfig(fs, path),
    };
  }
  r.pods = podResults;
  r.qos = Object.fromEntries(
    ['', '/kubepods', '/kubepods/burstable', '/kubepods/besteffort'].map((tier) => {
      const dir = `${cgroupRoot}${tier}`;
      return [tier || '/', rawFiles(dir, ['cpu.weight', 'cgroup.controllers', 'cgroup.subtree_control'])];
    }),
  );
  r.podUids = (await manager.podUids()).sort();

  // The systemd driver's naming on the same kernel (slices written as directories, not over D-Bus),
  // under its own root slice: a guaranteed pod, then its removal and the root's.
  const sliceRoot = `nacg${process.pid}.slice`;
  const systemd = new PodCgroupManager({
    fs,
    cgroupDriver: 'systemd',
    cgroupRoot: sliceRoot,
    podPidsLimit: 100,
  });
  await systemd.start();
  const slicePath = systemd.podCgroupPath(pods.guaranteed);
  r.systemd = {
    sliceRoot,
    parent: await systemd.ensurePod(pods.guaranteed),
    path: slicePath,
    kernel: rawFiles(slicePath, limitFiles),
  };
  await systemd.removePod(pods.guaranteed.metadata.uid ?? '');
  (r.systemd as Record<string, unknown>).podGone = !existsSync(join(mountRoot, slicePath));
  await fs.remove(`/${sliceRoot}`);
  (r.systemd as Record<string, unknown>).rootGone = !existsSync(join(mountRoot, sliceRoot));

  // Processes in the work pod: `app` holds 24 MiB of anonymous memory and stops itself; `io`
  // (memory.max 8 MiB, so its page cache is reclaimed: memory pressure) writes 4 MiB straight to
  // a RAM disk, reads a loop device with O_DIRECT (waits on I/O: io pressure), and runs two busy
  // loops on the guest's one vCPU (each waits for the other: cpu pressure).
  const app = `${workPath}/app`;
  const io = `${workPath}/io`;
  await fs.ensure(app, { memoryLimitBytes: 256 * 2 ** 20 });
  await fs.ensure(io, { memoryLimitBytes: 8 * 2 ** 20 });
  sh('modprobe', 'brd', 'rd_nr=1', 'rd_size=32768');
  sh('modprobe', 'loop');
  sh('truncate', '-s', '16M', '/tmp/cg2-loop');
  const loop = sh('losetup', '-f', '--show', '/tmp/cg2-loop');
  const hog = startIn(
    app,
    `exec ${process.execPath} -e "globalThis.kept = Buffer.alloc(24 << 20, 1); process.kill(process.pid, 'SIGSTOP')"`,
  );
  const busy = 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done';
  const ioWork = startIn(
    io,
    [
      'dd if=/dev/zero of=/dev/ram0 bs=64k count=64 oflag=direct 2>/dev/null',
      'dd if=/dev/ram0 of=/dev/null bs=64k 2>/dev/null',
      `dd if=${loop} of=/dev/null bs=64k count=256 iflag=direct 2>/dev/null`,
      `{ (${busy}) & (${busy}); wait; }`,
    ].join(' && '),
  );
  r.ioExit = await ioWork.exited;
  await untilStopped(hog.pid);
  r.loopDevice = sh('stat', '-c', '%t:%T', loop);
  r.stats = await stableStats(workPath);
  r.appStats = await stableStats(app);

  // Resize of the work pod (its containers are `app` and `io`): first below what it uses, then up,
  // then down; each container update records what the pod cgroup held at that moment.
  const resize = async (target: Parameters<typeof resizePodCgroup>[0]['target']) => {
    const seen: Record<string, unknown>[] = [];
    let error: string | undefined;
    try {
      await resizePodCgroup({
        fs,
        path: workPath,
        podName: 'work',
        target,
        resources: ['memory', 'cpu'],
        async updateContainers(resource) {
          seen.push({ resource, pod: rawFiles(workPath, ['memory.max', 'cpu.max', 'cpu.weight']) });
          if (resource === 'memory') await fs.ensure(app, { memoryLimitBytes: target.memoryLimitBytes });
          else await fs.ensure(app, { cpuQuotaUs: target.cpuQuotaUs, cpuPeriodUs: target.cpuPeriodUs });
        },
      });
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    return {
      error,
      seen,
      after: rawFiles(workPath, ['memory.max', 'cpu.max', 'cpu.weight']),
      app: rawFiles(app, ['memory.max', 'cpu.max']),
      usage: Number(raw(workPath, 'memory.current')),
    };
  };
  r.resize = {
    belowUsage: await resize({
      memoryLimitBytes: 16 * 2 ** 20,
      cpuShares: 256,
      cpuQuotaUs: 100_000,
      cpuPeriodUs: 100_000,
    }),
    up: await resize({
      memoryLimitBytes: 512 * 2 ** 20,
      cpuShares: 512,
      cpuQuotaUs: 200_000,
      cpuPeriodUs: 100_000,
    }),
    down: await resize({
      memoryLimitBytes: 192 * 2 ** 20,
      cpuShares: 256,
      cpuQuotaUs: 50_000,
      cpuPeriodUs: 100_000,
    }),
  };

  // The node's memory as the summary and eviction's memory.available see it on v2, from the very
  // /proc/meminfo and root memory.stat texts the provider read (kept by a recording source).
  const real = systemHostSources();
  const seenFiles: Record<string, string> = {};
  const recording: HostSources = {
    ...real,
    readProc: async (path) => {
      const text = await real.readProc(path);
      seenFiles[path] = text;
      return text;
    },
    readCgroupRoot: async (file) => {
      const text = await (real.readCgroupRoot?.(file) ?? Promise.reject(new Error('no cgroup root')));
      seenFiles[`cgroup:${file}`] = text;
      return text;
    },
  };
  const node = await new HostNodeStatsProvider({
    nodeName: 'vm',
    rootDir: '/tmp',
    sources: recording,
  }).nodeStats();
  r.node = {
    memory: node.memory,
    memoryAvailableSignal: signalObservations({ node, pods: [] }).get('memory.available'),
    meminfo: seenFiles.meminfo,
    rootMemoryStat: seenFiles['cgroup:memory.stat'],
  };

  // Removal on the real cgroupfs: a pod cgroup (rmdir, children first), then the whole root once
  // its processes are gone.
  await manager.removePod(pods.bestEffort.metadata.uid ?? '');
  r.bestEffortGone = !(await fs.exists(bestEffortPath));
  process.kill(hog.pid, 'SIGKILL');
  await hog.exited;
  await fs.remove(cgroupRoot);
  r.rootGone = !existsSync(join(mountRoot, cgroupRoot));
  sh('losetup', '-d', loop);
  console.log(`SCENARIO-RESULT ${JSON.stringify(r)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
