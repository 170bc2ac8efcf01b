import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as EmbeddedAddon from './embedded-addon.cjs';

const require = createRequire(import.meta.url);
const { addonDirs, loadAddonBytes, memoryBacked } = require('./embedded-addon.cjs') as typeof EmbeddedAddon;

// koffi's linux-x64 addon (a dependency of the packages; the executables carry their own libc
// calls instead) stands for any embedded addon: loadAddonBytes writes it out, dlopen()s it and
// deletes the file.
const koffiAddon = join(dirname(require.resolve('koffi/package.json')), 'build/koffi/linux_x64/koffi.node');

describe('loadAddonBytes', () => {
  const dir = mkdtempSync(join(tmpdir(), `na-embedded-addon-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads an addon from the first place that takes it, and names every place that did not', () => {
    const bytes = new Uint8Array(readFileSync(koffiAddon));
    // A missing directory stands for a noexec /tmp: the next place is used.
    const loaded = loadAddonBytes(bytes, 'koffi.node', [join(dir, 'missing'), dir]) as { load?: unknown };
    expect(typeof loaded.load).toBe('function');
    expect(() => loadAddonBytes(bytes, 'koffi.node', [join(dir, 'a'), join(dir, 'b')])).toThrow(
      /cannot load koffi\.node \(.*\/a: ENOENT.*; .*\/b: ENOENT/,
    );
  });
});

describe('addonDirs', () => {
  const TMPFS_MAGIC = 0x01021994;
  const EXT4_MAGIC = 0xef53;

  it('tells tmpfs from a disk by the kernel, and a directory it cannot read from both', () => {
    // /dev/shm is tmpfs wherever glibc's shm_open works; coreutils' stat names the checkout's.
    expect(memoryBacked('/dev/shm')).toBe(true);
    const checkoutFs = execFileSync('stat', ['-f', '-c', '%T', dirname(koffiAddon)], {
      encoding: 'utf8',
    }).trim();
    expect(memoryBacked(dirname(koffiAddon))).toBe(checkoutFs === 'tmpfs' || checkoutFs === 'ramfs');
    expect(memoryBacked('/nonexistent-na-embedded-addon')).toBe(false);
  });

  it('puts the places on disk before those in memory, each in its own order', () => {
    // A host whose /tmp is tmpfs (Debian 13, Fedora): the addon goes to /var/tmp.
    const onTmpfs = new Set([tmpdir(), '/dev/shm', '/run']);
    const dirs = addonDirs((path) => ({ type: onTmpfs.has(path) ? TMPFS_MAGIC : EXT4_MAGIC }));
    expect(dirs).toEqual(['/var/tmp', dirname(process.execPath), tmpdir(), '/dev/shm', '/run']);
    // A host whose /tmp is on disk keeps it first.
    const onDisk = addonDirs((path) => ({
      type: path === '/dev/shm' || path === '/run' ? TMPFS_MAGIC : EXT4_MAGIC,
    }));
    expect(onDisk).toEqual([tmpdir(), '/var/tmp', dirname(process.execPath), '/dev/shm', '/run']);
  });
});
