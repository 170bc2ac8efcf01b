import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerdPaths, renderContainerdConfig } from './containerd-config';
import { renderContainerdConfigV3 } from './containerd-config-v3';
import { chooseRunc, RuncVersionError, resolveRuncVersion, runcBinary } from './runc-version';

/** A runc 1.3 tree as tools/install-deps.mjs leaves it (empty files: only their presence counts). */
async function unpackedRunc(tree: string): Promise<void> {
  await mkdir(join(tree, 'usr', 'sbin'), { recursive: true });
  await writeFile(join(tree, 'usr', 'sbin', 'runc'), '');
  const libc = join(tree, 'libc', 'usr', 'lib', 'x86_64-linux-gnu');
  await mkdir(libc, { recursive: true });
  await writeFile(join(libc, 'libc.so.6'), '');
}

const missingRunc = (tree: string) =>
  `runc 1.3 is not unpacked in ${tree}: run \`node tools/install-deps.mjs\` as root (it downloads Debian unstable's runc and libc6 there without installing them)`;

describe('resolveRuncVersion', () => {
  it('takes the option first, then NODEAGENT_RUNC, else the containerd’s own: 1.3 with 2.1, 1.1 with 1.6', () => {
    expect(resolveRuncVersion('1.3', '1.6', { NODEAGENT_RUNC: '1.1' })).toBe('1.3');
    expect(resolveRuncVersion('1.1', '2.1', { NODEAGENT_RUNC: '1.3' })).toBe('1.1');
    expect(resolveRuncVersion(undefined, '1.6', { NODEAGENT_RUNC: '1.3' })).toBe('1.3');
    expect(resolveRuncVersion(undefined, '2.1', { NODEAGENT_RUNC: '1.1' })).toBe('1.1');
    expect(resolveRuncVersion(undefined, '1.6', { NODEAGENT_RUNC: '' })).toBe('1.1');
    expect(resolveRuncVersion(undefined, '2.1', { NODEAGENT_RUNC: '' })).toBe('1.3');
    expect(resolveRuncVersion(undefined, '1.6', {})).toBe('1.1');
    expect(resolveRuncVersion(undefined, '2.1', {})).toBe('1.3');
  });

  it('refuses an unknown version, naming where it came from and the value', () => {
    expect(() => resolveRuncVersion(undefined, '2.1', { NODEAGENT_RUNC: '1.2' })).toThrow(
      new RuncVersionError(
        'NODEAGENT_RUNC "1.2" is not a runc version tools/containerd runs; use one of 1.1, 1.3',
      ),
    );
    expect(() => resolveRuncVersion('crun', '1.6', {})).toThrow(/^runc option "crun" is not/);
  });
});

describe('chooseRunc', () => {
  it('gives containerd 2.1 the unpacked runc 1.3 and 1.6 the one on PATH; a missing 1.3 by default names install-deps and NODEAGENT_RUNC=1.1', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'na-runc-version-'));
    try {
      expect(chooseRunc(undefined, '1.6', {}, tree)).toEqual({ version: '1.1', binary: undefined });
      expect(() => chooseRunc(undefined, '2.1', {}, tree)).toThrow(
        new RuncVersionError(
          `${missingRunc(tree)}; containerd 2.1 runs runc 1.3 by default (NODEAGENT_RUNC=1.1 runs stable's runc 1.1 instead, without user namespaces)`,
        ),
      );
      // Asked for by name: the plain message.
      expect(() => chooseRunc(undefined, '2.1', { NODEAGENT_RUNC: '1.3' }, tree)).toThrow(
        new RuncVersionError(missingRunc(tree)),
      );
      expect(chooseRunc(undefined, '2.1', { NODEAGENT_RUNC: '1.1' }, tree)).toEqual({
        version: '1.1',
        binary: undefined,
      });
      await unpackedRunc(tree);
      expect(chooseRunc(undefined, '2.1', {}, tree)).toEqual({
        version: '1.3',
        binary: join(tree, 'usr', 'sbin', 'runc'),
      });
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});

describe('runcBinary', () => {
  it('leaves 1.1 to PATH, points 1.3 at the unpacked binary, and names the fix when it is missing', async () => {
    expect(runcBinary('1.1')).toBeUndefined();
    const tree = await mkdtemp(join(tmpdir(), 'na-runc-version-'));
    try {
      expect(() => runcBinary('1.3', tree)).toThrow(new RuncVersionError(missingRunc(tree)));
      await unpackedRunc(tree);
      expect(runcBinary('1.3', tree)).toBe(join(tree, 'usr', 'sbin', 'runc'));
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});

describe("the runc shim's BinaryName", () => {
  const input = {
    paths: containerdPaths('/tmp/na-ctrd-x'),
    sandboxImage: 'localhost/pause:1',
    cniBinDir: '/usr/lib/cni',
    logLevel: 'info',
  };
  it('is set on both config versions for an unpacked runc, and absent for PATH’s', () => {
    const runc = '/var/cache/nodeagent/runc-1.3/usr/sbin/runc';
    for (const render of [renderContainerdConfig, renderContainerdConfigV3]) {
      expect(render(input)).not.toContain('BinaryName');
      expect(render({ ...input, runcBinary: runc })).toContain(
        `.containerd.runtimes.runc.options]\n        SystemdCgroup = false\n        BinaryName = "${runc}"\n`,
      );
    }
  });
});
