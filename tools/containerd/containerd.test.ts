import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cgroupDirs, parseCgroupMounts } from '../../packages/testing/src/netns/cgroup-mounts';
import { type RunningContainerd, startContainerd, sweepStaleInstances } from './containerd';
import { STREAM_SERVER_PORT } from './containerd-config';
import { CONTAINERD_VERSIONS, type ContainerdVersion } from './containerd-version';
import { isAlive, waitForExit } from './process-sweep';
import { DEFAULT_RUNC, RUNC_VERSION_ENV, resolveRuncVersion } from './runc-version';

const run = promisify(execFile);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Ports with a TCP listener (state 0A) in the network namespace of process `pid`. */
async function listeningPorts(pid: number): Promise<number[]> {
  const table = await readFile(`/proc/${pid}/net/tcp`, 'utf8');
  return table
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A')
    .map((f) => Number.parseInt((f[1] ?? '').split(':')[1] ?? '', 16));
}

async function netnsNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
}

/** What each version's config must say: the 1.6 (version 2) and 2.1 (version 3) spellings. */
const configLines: Record<ContainerdVersion, (pause: string) => string[]> = {
  '1.6': (pause) => ['version = 2', `sandbox_image = "${pause}"`],
  '2.1': (pause) => [
    'version = 3',
    '[plugins."io.containerd.cri.v1.images".pinned_images]',
    `sandbox = "${pause}"`,
  ],
};

describe.each(CONTAINERD_VERSIONS)('tools/containerd on containerd %s', (version) => {
  let c: RunningContainerd;
  let taskPid = 0;
  const ctr = (...args: string[]) => run(c.ctr, ['--address', c.socketPath, ...args], { timeout: 30_000 });

  beforeAll(async () => {
    c = await startContainerd({ version });
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it('runs containerd inside its own network namespace with its own socket', async () => {
    expect(await netnsNames()).toContain(c.netns);
    expect(c.endpoint).toBe(`unix://${c.socketPath}`);
    expect(c.socketPath.startsWith(c.baseDir)).toBe(true);
    const ours = await run('readlink', [`/proc/${c.pid}/ns/net`]);
    const host = await run('readlink', ['/proc/self/ns/net']);
    expect(ours.stdout).not.toBe(host.stdout);
    const config = await readFile(`${c.baseDir}/config.toml`, 'utf8');
    expect(config).toContain('restrict_oom_score_adj = true');
    for (const line of configLines[version](c.images?.pause.name ?? '')) expect(config).toContain(line);
  });

  it('listens for streaming on a fixed port below the ephemeral range, and nowhere else', async () => {
    const [ephemeralLow] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).split(/\s+/);
    expect(STREAM_SERVER_PORT).toBeLessThan(Number(ephemeralLow));
    // The CRI plugin starts its streaming server once containerd serves its socket, not before.
    await vi.waitFor(async () => expect(await listeningPorts(c.pid)).toContain(STREAM_SERVER_PORT), {
      timeout: 20_000,
      interval: 100,
    });
    expect(await listeningPorts(c.pid)).toEqual([STREAM_SERVER_PORT]);
  });

  it(`is containerd ${version}, driven by the ctr of the same version`, async () => {
    expect(c.version).toBe(version);
    const { stdout } = await ctr('version');
    // Client and server sections each name their version: both from the same release.
    const versions = [...stdout.matchAll(/Version:\s+v?(\d+\.\d+)\./g)].map((m) => m[1]);
    expect(versions).toEqual([version, version]);
    // 1.6.20's ctr predates `deprecations`; on 2.x, none of the config's settings is deprecated.
    if (version !== '1.6') {
      const deprecations = (await ctr('deprecations', 'list', '--format', 'json')).stdout.trim();
      expect(deprecations === '' ? [] : JSON.parse(deprecations)).toEqual([]);
    }
  });

  it(`gives the CRI runtime its runc: ${DEFAULT_RUNC[version]} unless ${RUNC_VERSION_ENV} says otherwise`, async () => {
    expect(c.runc).toBe(resolveRuncVersion(undefined, version));
    // The shim runs BinaryName when the config names one (unstable's 1.3), else `runc` on PATH.
    const config = await readFile(`${c.baseDir}/config.toml`, 'utf8');
    const binary = /BinaryName = "([^"]+)"/.exec(config)?.[1] ?? 'runc';
    const { stdout } = await run(binary, ['--version']);
    expect(stdout).toMatch(new RegExp(`^runc version ${c.runc?.replace('.', '\\.')}\\.`));
  });

  it('has the local images imported into the k8s.io namespace', async () => {
    const { stdout } = await ctr('-n', 'k8s.io', 'images', 'ls', '-q');
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([c.images?.pause.name, c.images?.busybox.name]),
    );
  });

  it('runs a container from the busybox image', async () => {
    await ctr('-n', 'k8s.io', 'run', '-d', c.images?.busybox.name ?? '', 'probe', 'sleep', '3600');
    const { stdout } = await ctr('-n', 'k8s.io', 'tasks', 'ls');
    const line = stdout.split('\n').find((l) => l.startsWith('probe'));
    expect(line).toContain('RUNNING');
    taskPid = Number(line?.split(/\s+/)[1]);
    expect(isAlive(taskPid)).toBe(true);
  });

  it('stops everything it started and removes its netns and files', async () => {
    // The instance holds containerd's /k8s.io parent while it runs (parent-cgroup), and no longer
    // once stopped; the parent itself goes with the last holder, maybe another file's instance.
    const holds = async () => {
      const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
      const names = await Promise.all(
        cgroupDirs('/k8s.io', parseCgroupMounts(mountinfo)).map((dir) => readdir(dir).catch(() => [])),
      );
      return names.flat().filter((name) => name.endsWith(`-${c.netns}`));
    };
    expect((await holds()).length).toBeGreaterThan(0);
    await c.stop();
    expect(await holds()).toEqual([]);
    expect(isAlive(c.pid)).toBe(false);
    expect(isAlive(taskPid)).toBe(false);
    expect(await netnsNames()).not.toContain(c.netns);
    expect(await exists(c.baseDir)).toBe(false);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(c.baseDir);
    await c.stop(); // idempotent
  });
});

describe('tools/containerd stale-instance sweep', () => {
  it('tears down an instance whose owner process died', async () => {
    // A child process starts containerd and is then killed before it can call stop().
    const script = `import { startContainerd } from ${JSON.stringify(new URL('./containerd.ts', import.meta.url).pathname)};
const c = await startContainerd({ images: false });
process.stdout.write(JSON.stringify({ netns: c.netns, pid: c.pid, baseDir: c.baseDir }) + '\\n');
setInterval(() => {}, 1000);`;
    const scriptDir = await mkdtemp(join(tmpdir(), 'na-ctrd-orphan-'));
    let orphan: { netns: string; pid: number; baseDir: string } | undefined;
    await writeFile(join(scriptDir, 'starter.mts'), script);
    // `node --import tsx` rather than the tsx binary: the script must run in the process we kill.
    const child = spawn(process.execPath, ['--import', 'tsx', join(scriptDir, 'starter.mts')], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.split('\n')[0] ?? '');
        });
        child.once('exit', () => reject(new Error(`starter exited early: ${buf}`)));
      });
      orphan = JSON.parse(line) as { netns: string; pid: number; baseDir: string };
      child.kill('SIGKILL');
      await exited;
      expect(isAlive(orphan.pid)).toBe(true);
      expect(await sweepStaleInstances({ only: [orphan.netns] })).toEqual([orphan.netns]);
      expect(isAlive(orphan.pid)).toBe(false);
      expect(await netnsNames()).not.toContain(orphan.netns);
      expect(await exists(orphan.baseDir)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (orphan) await sweepStaleInstances({ only: [orphan.netns] });
      await rm(scriptDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.each(CONTAINERD_VERSIONS)('tools/containerd teardown after containerd %s died first', (version) => {
  it("kills the containers' processes and removes their cgroups", async () => {
    const c = await startContainerd({ version });
    try {
      const ctr = (...args: string[]) => run(c.ctr, ['--address', c.socketPath, '-n', 'k8s.io', ...args]);
      const id = `probe-${process.pid}-${version}`;
      await ctr('run', '-d', c.images?.busybox.name ?? '', id, 'sleep', '3600');
      const line = (await ctr('tasks', 'ls')).stdout.split('\n').find((l) => l.startsWith(id));
      const taskPid = Number(line?.split(/\s+/)[1]);
      const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
      const dirs = cgroupDirs(`/k8s.io/${id}`, parseCgroupMounts(mountinfo));
      expect(dirs.length).toBeGreaterThan(0);
      for (const dir of dirs) expect(await exists(dir)).toBe(true);
      // The task's own netns is not containerd's: only its cgroup still leads to it.
      process.kill(c.pid, 'SIGKILL');
      await waitForExit([c.pid], 5000);
      await c.stop();
      expect(isAlive(taskPid)).toBe(false);
      for (const dir of dirs) expect(await exists(dir)).toBe(false);
    } finally {
      await c.stop();
    }
  }, 60_000);
});
