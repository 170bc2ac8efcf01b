import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cgroupMemory } from '@nodeagent/testing';
import { afterAll, describe, expect, it } from 'vitest';

const child = join(import.meta.dirname, '..', 'helpers', 'pod-tree-churn.ts');
const dir = mkdtempSync(join(tmpdir(), 'na-remove-tree-dentries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Kernel memory charged to a cgroup of its own while a child makes and removes `count` pod trees
 * one way. The kernel charges a cgroup ahead, up to 64 pages a CPU at a time, so a reading is off
 * by up to 256 KiB for each CPU the child ran on: the child runs on CPU 0 alone (taskset), and
 * the count spreads that over enough trees.
 */
async function kernelBytesPerTree(mode: 'removeTree' | 'rm', count: number): Promise<number> {
  const cgroup = cgroupMemory.MemoryCgroup.create('remove-tree');
  const parent = join(dir, mode);
  const { command, args } = cgroup.wrap('taskset', [
    '-c',
    '0',
    process.execPath,
    '--import',
    'tsx',
    child,
    parent,
  ]);
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    const next = async () => (await lines.next()).value;
    expect(await next()).toBe('ready');
    // A first round makes the parent's own entries and the parking names once.
    proc.stdin!.write(`${mode} 100\n`);
    expect(await next()).toBe('done');
    const before = (await cgroup.read()).kernelBytes;
    proc.stdin!.write(`${mode} ${count}\n`);
    expect(await next()).toBe('done');
    return ((await cgroup.read()).kernelBytes - before) / count;
  } finally {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    await cgroup.remove();
  }
}

describe('removeTree on the disk (a memory cgroup of its own)', () => {
  it("leaves no negative dentry per removed name in the kernel's dentry cache, as removing in place does", async () => {
    const count = 20_000;
    const inPlace = await kernelBytesPerTree('rm', count);
    const parked = await kernelBytesPerTree('removeTree', count);
    // In place: a dentry (192 B) and its slab share for each uid, about 220 B, kept until memory
    // runs short (reclaim elsewhere on a loaded machine takes some back while the child runs).
    // Through removeTree: none. The charge-ahead above moves a reading by 13 B a tree at most;
    // one dentry left for every fifth tree would show as 38 B.
    expect(inPlace).toBeGreaterThan(100);
    expect(parked).toBeLessThan(35);
  }, 300_000);
});
