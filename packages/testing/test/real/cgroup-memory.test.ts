import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupMemory } from '../../src/index';

const { MemoryCgroup } = cgroupMemory;
const MiB = 1048576;

// A child that answers each stdin line ("anon <MiB>", "file <MiB>", "files <thousands>",
// "dirs <thousands>", "read 0") once it has done it: anon fills a Buffer that stays referenced;
// file writes and reads back a file of that size; read reads that file again; files makes that
// many thousand empty files (dentries and inodes: kernel memory); dirs makes and removes that
// many thousand directories of unique names, as a kubelet does a pod's directories, which leaves
// a negative dentry for each name.
const CHILD = `
const fs = require('node:fs');
const kept = [];
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [what, n] = line.split(' ');
  const bytes = Number(n) * 1048576;
  if (what === 'anon') kept.push(Buffer.alloc(bytes, 1));
  if (what === 'file') { fs.writeFileSync(process.argv[1], Buffer.alloc(bytes, 2)); fs.readFileSync(process.argv[1]); }
  if (what === 'read') fs.readFileSync(process.argv[1]);
  if (what === 'files') { const d = process.argv[1] + '.d'; fs.mkdirSync(d); for (let i = 0; i < Number(n) * 1000; i++) fs.writeFileSync(d + '/' + i, ''); }
  if (what === 'dirs') { const d = process.argv[1] + '.gone'; fs.mkdirSync(d); for (let i = 0; i < Number(n) * 1000; i++) { fs.mkdirSync(d + '/' + i); fs.rmdirSync(d + '/' + i); } }
  process.stdout.write('done\\n');
});
process.stdout.write('ready\\n');
`;

const dir = mkdtempSync(join(tmpdir(), 'na-cgroup-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs CHILD in a new MemoryCgroup (its file argument `name` in the temp dir), hands `body` the
 * cgroup, the child's pid and `ask` (send a line, wait for its "done"), then kills the child and
 * removes the cgroup.
 */
async function withChild(
  name: string,
  body: (
    cgroup: cgroupMemory.MemoryCgroup,
    pid: number,
    ask: (line: string) => Promise<void>,
  ) => Promise<void>,
): Promise<cgroupMemory.MemoryCgroup> {
  const cgroup = MemoryCgroup.create('test');
  const { command, args } = cgroup.wrap(process.execPath, ['-e', CHILD, join(dir, name)]);
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => (await lines.next()).value;
    expect(await next()).toBe('ready');
    await body(cgroup, child.pid as number, async (line) => {
      child.stdin!.write(`${line}\n`);
      expect(await next()).toBe('done');
    });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await cgroup.remove();
  }
  return cgroup;
}

describe('MemoryCgroup', () => {
  it('charges a child from its first instruction: anon grows by what it allocates, a file it writes shows in file, files it makes in kernel memory, and the cgroup is gone after remove()', async () => {
    const cgroup = await withChild('data', async (cgroup, pid, ask) => {
      expect(cgroup.pids()).toEqual([pid]);
      const before = await cgroup.read();
      expect(before.anonBytes).toBeGreaterThan(5 * MiB); // node's own heap and stacks
      expect(before.vmRssBytes).toBeGreaterThan(before.anonBytes);

      await ask('anon 64');
      const anon = await cgroup.read();
      expect((anon.anonBytes - before.anonBytes) / MiB).toBeGreaterThan(56);
      expect((anon.anonBytes - before.anonBytes) / MiB).toBeLessThan(80);
      expect(anon.workingSetBytes).toBeLessThanOrEqual(anon.usageBytes);
      expect(anon.workingSetBytes).toBeGreaterThanOrEqual(anon.anonBytes - 4 * MiB);
      expect(anon.pssBytes).toBeGreaterThan(64 * MiB);

      await ask('file 32');
      const file = await cgroup.read();
      expect((file.fileBytes - anon.fileBytes) / MiB).toBeGreaterThan(28);
      expect(file.usageBytes).toBeGreaterThanOrEqual(file.anonBytes + file.fileBytes - 4 * MiB);

      // 20,000 files: at least a dentry (192 B) and an inode each, charged as kernel memory.
      await ask('files 20');
      const files = await cgroup.read();
      expect((files.kernelBytes - file.kernelBytes) / MiB).toBeGreaterThan(3);
      expect(files.usageBytes).toBeGreaterThanOrEqual(
        files.anonBytes + files.fileBytes + files.kernelBytes - 8 * MiB,
      );
    });
    expect(existsSync(cgroup.dir)).toBe(false);
  }, 60_000);

  it("reclaim() has the kernel take back a removed directory's dentries and the page cache, and leaves anon; the pages read again count as refaults", async () => {
    await withChild('reclaimed', async (cgroup, _pid, ask) => {
      await ask('anon 32');
      const before = await cgroup.read();
      // 10,000 names made and removed: a negative dentry (about 250 B with its slab share) each
      // stays, charged here. Made on the disk's file system, as a kubelet's are: on a busy disk
      // each mkdir and rmdir waits for the journal, so the count stays small.
      await ask('dirs 10');
      await ask('file 32');
      const grown = await cgroup.read();
      const kernelGrowth = grown.kernelBytes - before.kernelBytes;
      expect(kernelGrowth / MiB).toBeGreaterThan(1.5);
      expect((grown.fileBytes - before.fileBytes) / MiB).toBeGreaterThan(28);

      cgroup.reclaim();
      // The dentries go after an RCU grace period: wait for the kernel figure, with a bound.
      const reclaimed = () => after.kernelBytes - before.kernelBytes < kernelGrowth / 4;
      let after = await cgroup.read();
      for (let i = 0; i < 100 && !reclaimed(); i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await cgroup.read();
      }
      expect(after.kernelBytes - before.kernelBytes).toBeLessThan(kernelGrowth / 4);
      expect(after.fileBytes).toBeLessThan(grown.fileBytes - 28 * MiB);
      expect(after.anonBytes).toBeGreaterThan(grown.anonBytes - 4 * MiB);

      // The file read again: each page the reclaim took comes back as a refault.
      const refaults = () => cgroup.fileRefaults()?.refaultedBytes ?? 0;
      const refaulted = refaults();
      await ask('read 0');
      expect((refaults() - refaulted) / MiB).toBeGreaterThan(28);
    });
  }, 180_000);

  it('reads a process by its pid, and removes the cgroup while the process is still in it, moving it out without killing it', async () => {
    const cgroup = MemoryCgroup.create('test');
    const { command, args } = cgroup.wrap('sleep', ['30']);
    const child = spawn(command, args, { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && cgroup.pids().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(cgroup.pids()).toEqual([child.pid]);
      // A process in a bench cgroup is read through its pid; one elsewhere (this one) is not.
      expect((await cgroupMemory.readBenchCgroupOf(child.pid as number))?.pids).toEqual([child.pid]);
      expect(await cgroupMemory.readBenchCgroupOf(process.pid)).toBeUndefined();
      await cgroup.remove();
      expect(existsSync(cgroup.dir)).toBe(false);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('memory.stat and /proc/self/cgroup', () => {
  it('reads v1 totals and v2 fields, and the working set floors at 0', () => {
    const v1 = 'cache 10\nrss 20\ninactive_file 1\ntotal_cache 300\ntotal_rss 200\ntotal_inactive_file 100\n';
    expect(cgroupMemory.parseMemoryStat(v1, 'v1')).toEqual({
      anonBytes: 200,
      fileBytes: 300,
      inactiveFileBytes: 100,
    });
    const v2 = 'anon 7\nfile 9\nkernel 1\ninactive_file 4\nactive_file 5\n';
    expect(cgroupMemory.parseMemoryStat(v2, 'v2')).toEqual({
      anonBytes: 7,
      fileBytes: 9,
      inactiveFileBytes: 4,
      kernelBytes: 1,
    });
    // Before `kernel` (5.18), its parts.
    const parts = 'anon 7\nfile 9\ninactive_file 4\nslab 3\nkernel_stack 2\npagetables 5\nsock 1\npercpu 1\n';
    expect(cgroupMemory.parseMemoryStat(parts, 'v2').kernelBytes).toBe(12);
    expect(() => cgroupMemory.parseMemoryStat('anon 1\n', 'v2')).toThrow(/memory.stat has no file/);
    expect(cgroupMemory.workingSet(100, 30)).toBe(70);
    expect(cgroupMemory.workingSet(100, 130)).toBe(0);
    const self = '12:pids:/a\n4:memory:/process_api/x\n0::/user.slice/y.scope\n';
    expect(cgroupMemory.ownCgroupPath(self, 'v1')).toBe('/process_api/x');
    expect(cgroupMemory.ownCgroupPath(self, 'v2')).toBe('/user.slice/y.scope');
  });
});
