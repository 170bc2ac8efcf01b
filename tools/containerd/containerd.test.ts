import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningContainerd, startContainerd, sweepStaleInstances } from './containerd';
import { isAlive } from './process-sweep';

const run = promisify(execFile);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function netnsNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
}

describe('tools/containerd', () => {
  let c: RunningContainerd;
  let taskPid = 0;

  beforeAll(async () => {
    c = await startContainerd();
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
    expect(config).toContain(`sandbox_image = "${c.images?.pause.name}"`);
  });

  it('has the local images imported into the k8s.io namespace', async () => {
    const { stdout } = await run('ctr', ['--address', c.socketPath, '-n', 'k8s.io', 'images', 'ls', '-q']);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([c.images?.pause.name, c.images?.busybox.name]),
    );
  });

  it('runs a container from the busybox image', async () => {
    await run(
      'ctr',
      [
        '--address',
        c.socketPath,
        '-n',
        'k8s.io',
        'run',
        '-d',
        c.images?.busybox.name ?? '',
        'probe',
        'sleep',
        '3600',
      ],
      { timeout: 30_000 },
    );
    const { stdout } = await run('ctr', ['--address', c.socketPath, '-n', 'k8s.io', 'tasks', 'ls']);
    const line = stdout.split('\n').find((l) => l.startsWith('probe'));
    expect(line).toContain('RUNNING');
    taskPid = Number(line?.split(/\s+/)[1]);
    expect(isAlive(taskPid)).toBe(true);
  });

  it('stops everything it started and removes its netns and files', async () => {
    await c.stop();
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
