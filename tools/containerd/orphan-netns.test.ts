import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountPoints, sweepOrphanNetnsNames } from './orphan-netns';

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid ?? 0;
}

describe('sweepOrphanNetnsNames', () => {
  let dir: string;
  let netnsDir: string;
  let registryDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'na-orphan-netns-'));
    netnsDir = join(dir, 'netns');
    registryDir = join(dir, 'registry');
    await Promise.all([mkdir(netnsDir), mkdir(registryDir)]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("removes only a dead starter's unregistered, unmounted names", async () => {
    const dead = await deadPid();
    const names = {
      orphan: `na-ctrd-${dead}-0a1b2c3d`,
      registered: `na-ctrd-${dead}-4e5f6a7b`,
      live: `na-ctrd-${process.pid}-8c9d0e1f`,
      notOurs: 'cni-1234',
    };
    for (const name of Object.values(names)) await writeFile(join(netnsDir, name), '');
    await writeFile(join(registryDir, `${names.registered}.json`), '{}');

    expect(await sweepOrphanNetnsNames({ dir: netnsDir, registryDir })).toEqual([names.orphan]);
    expect((await readdir(netnsDir)).sort()).toEqual([names.notOurs, names.live, names.registered].sort());
  });

  it('finds nothing to do where the directory is missing', async () => {
    expect(await sweepOrphanNetnsNames({ dir: join(dir, 'absent'), registryDir })).toEqual([]);
  });
});

describe('mountPoints', () => {
  it('lists where file systems are mounted, and not a plain directory', () => {
    const points = mountPoints();
    expect(points.has('/proc')).toBe(true);
    expect(points.has(join(tmpdir(), 'na-orphan-netns-none'))).toBe(false);
  });
});
