import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirSetupError, setupDataDirs } from '../src/data-dirs';
import { startEngine } from './helpers/engine';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), `na-kubelet-data-dirs-${process.pid}-`));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('setupDataDirs (upstream kubelet setupDataDirs)', () => {
  it('creates the root dir, pods/ and the pod logs root with mode 0750, parents included', async () => {
    const previous = process.umask(0o022);
    try {
      const root = join(base, 'var', 'lib', 'kubelet');
      const logs = join(base, 'var', 'log', 'pods');
      await setupDataDirs(root, logs);
      for (const dir of [root, join(root, 'pods'), logs]) expect(await modeOf(dir)).toBe(0o750);
      // The CSI volume plugin's, the plugin manager's and the pod-resources API's directories.
      for (const dir of ['plugins', 'plugins_registry', 'pod-resources'])
        expect(await modeOf(join(root, dir))).toBe(0o750);
      // ContainerCheckpoint is on by default: the server's /checkpoint archives go there.
      expect(await modeOf(join(root, 'checkpoints'))).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('makes no checkpoints/ with feature gate ContainerCheckpoint off', async () => {
    const root = join(base, 'root');
    await setupDataDirs(root, join(base, 'logs'), { ContainerCheckpoint: false });
    await expect(stat(join(root, 'checkpoints'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves an existing root dir and its mode alone', async () => {
    const root = join(base, 'root');
    await mkdir(root, { mode: 0o700 });
    await setupDataDirs(root, join(base, 'logs'));
    expect(await modeOf(root)).toBe(0o700);
    expect(await modeOf(join(root, 'pods'))).toBe(0o750);
  });

  it('refuses to start with a typed error naming the directory when one cannot be made', async () => {
    const file = join(base, 'not-a-dir');
    await writeFile(file, '');
    const error = await setupDataDirs(join(file, 'root'), join(base, 'logs')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirSetupError);
    expect(error).toMatchObject({ code: 'DATA_DIR_SETUP', field: 'rootDir', value: join(file, 'root') });
    expect((error as Error).message).toContain('error creating root directory: ');
  });

  it('runs when the kubelet starts', async () => {
    const engine = await startEngine();
    try {
      expect(await modeOf(join(engine.dir, 'root', 'pods'))).toBe(0o750);
      expect(await modeOf(join(engine.dir, 'logs'))).toBe(0o750);
    } finally {
      await engine.close();
    }
  });
});
