import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemMounter } from '../../src/volumes/mounter';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `na-kubelet-bind-${process.pid}-`));
});
afterAll(async () => {
  // Whatever a failed assertion left mounted under our temp dir goes first.
  for (const target of (await mountsUnder(root)).map(([target]) => target).reverse())
    await systemMounter.unmount(target).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

/** [target, options] of each mount under `dir`. */
async function mountsUnder(dir: string): Promise<[string, string[]][]> {
  return (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[1]?.startsWith(dir))
    .map((fields) => [fields[1]!, (fields[3] ?? '').split(',')]);
}

describe("the host's mounter (root): a local PersistentVolume's bind mount", () => {
  it('binds the path, then remounts it with the read-only flag and the volume options, as mount-utils does', async () => {
    const source = join(root, 'disk');
    const target = join(root, 'pod-volume');
    await mkdir(source);
    await mkdir(target);
    await writeFile(join(source, 'data'), 'on the disk');
    await systemMounter.bindMount!(source, target, true, ['noexec', 'nodev']);
    const [[at, options]] = (await mountsUnder(root)) as [[string, string[]]];
    expect(at).toBe(target);
    expect(options).toEqual(expect.arrayContaining(['ro', 'noexec', 'nodev']));
    expect(await readFile(join(target, 'data'), 'utf8')).toBe('on the disk');
    await expect(writeFile(join(target, 'more'), 'x')).rejects.toThrow(/EROFS/);
    await systemMounter.unmount(target);
    // Without options or read-only: one bind, writable.
    await systemMounter.bindMount!(source, target, false);
    const [[, plain]] = (await mountsUnder(root)) as [[string, string[]]];
    expect(plain).toContain('rw');
    expect(plain).not.toContain('noexec');
    await writeFile(join(target, 'more'), 'x');
    await systemMounter.unmount(target);
    expect(await mountsUnder(root)).toEqual([]);
  });
});
