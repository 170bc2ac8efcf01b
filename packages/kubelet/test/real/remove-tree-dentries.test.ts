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

/** Kernel memory charged to a cgroup of its own while a child makes and removes `count` pod trees one way. */
async function kernelBytesPerTree(mode: 'removeTree' | 'rm', count: number): Promise<number> {
  const cgroup = cgroupMemory.MemoryCgroup.create('remove-tree');
  const parent = join(dir, mode);
  const { command, args } = cgroup.wrap(process.execPath, ['--import', 'tsx', child, parent]);
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
    const count = 5000;
    const inPlace = await kernelBytesPerTree('rm', count);
    const parked = await kernelBytesPerTree('removeTree', count);
    // In place: a dentry (192 B) and its slab share for each uid, kept until memory runs short.
    expect(inPlace).toBeGreaterThan(150);
    expect(parked).toBeLessThan(inPlace / 4);
  }, 180_000);
});
