import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ContainerdVersionError,
  containerd21Available,
  containerdBinaries,
  resolveContainerdVersion,
} from './containerd-version';

describe('resolveContainerdVersion', () => {
  it('takes the option first, then NODEAGENT_CONTAINERD, else 1.6', () => {
    expect(resolveContainerdVersion('2.1', { NODEAGENT_CONTAINERD: '1.6' })).toBe('2.1');
    expect(resolveContainerdVersion(undefined, { NODEAGENT_CONTAINERD: '2.1' })).toBe('2.1');
    expect(resolveContainerdVersion(undefined, { NODEAGENT_CONTAINERD: '' })).toBe('1.6');
    expect(resolveContainerdVersion(undefined, {})).toBe('1.6');
  });

  it('refuses an unknown version, naming where it came from and the value', () => {
    expect(() => resolveContainerdVersion(undefined, { NODEAGENT_CONTAINERD: '2' })).toThrow(
      new ContainerdVersionError(
        'NODEAGENT_CONTAINERD "2" is not a containerd version tools/containerd runs; use one of 1.6, 2.1',
      ),
    );
    expect(() => resolveContainerdVersion('1.7', {})).toThrow(/^version option "1.7" is not/);
  });
});

describe('containerdBinaries', () => {
  it('runs 1.6 from the system PATH, and 2.1 from the unpacked tree with its bin dir for the shim', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'na-ctrd-version-'));
    try {
      const system = join(tree, 'system');
      await mkdir(system);
      await writeFile(join(system, 'containerd'), '', { mode: 0o755 });
      expect(containerdBinaries('1.6', tree, `/nonexistent:${system}`)).toEqual({
        version: '1.6',
        containerd: 'containerd',
        ctr: 'ctr',
      });
      const bin = join(tree, 'usr', 'bin');
      await mkdir(bin, { recursive: true });
      for (const name of ['containerd', 'containerd-shim-runc-v2', 'ctr'])
        await writeFile(join(bin, name), '');
      expect(containerdBinaries('2.1', tree)).toEqual({
        version: '2.1',
        containerd: join(bin, 'containerd'),
        ctr: join(bin, 'ctr'),
        binDir: bin,
      });
      await rm(join(bin, 'containerd-shim-runc-v2'));
      expect(() => containerdBinaries('2.1', tree)).toThrow(ContainerdVersionError);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });

  it('names a 1.6 that is not installed, and the command that installs it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'na-ctrd-version-'));
    try {
      // Present but not executable is not installed either.
      await writeFile(join(dir, 'containerd'), '', { mode: 0o644 });
      expect(() => containerdBinaries('1.6', dir, dir)).toThrow(
        'containerd 1.6 is not installed (no `containerd` on PATH): run `node tools/install-deps.mjs` as root',
      );
      expect(() => containerdBinaries('1.6', dir, '')).toThrow(ContainerdVersionError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the missing unpacked tree and the command that fetches it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'na-ctrd-version-'));
    try {
      expect(() => containerdBinaries('2.1', empty)).toThrow(
        `containerd 2.1 is not unpacked in ${empty}: run \`node tools/install-deps.mjs\` as root`,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('containerd21Available', () => {
  it('needs both unpacked trees: containerd 2.1 and its default runc 1.3', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'na-ctrd-version-'));
    const [ctrd, runc] = [join(tree, 'containerd'), join(tree, 'runc')];
    const touch = async (dir: string, name: string) => {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, name), '');
    };
    try {
      for (const name of ['containerd', 'containerd-shim-runc-v2', 'ctr'])
        await touch(join(ctrd, 'usr', 'bin'), name);
      expect(containerd21Available(ctrd, runc)).toBe(false);
      await touch(join(runc, 'usr', 'sbin'), 'runc');
      await touch(join(runc, 'libc', 'usr', 'lib', 'x86_64-linux-gnu'), 'libc.so.6');
      expect(containerd21Available(ctrd, runc)).toBe(true);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});
