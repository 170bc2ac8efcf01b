import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, type Netns } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacedChangeFloor } from '../../bench/scale-paced-floor';

// The scale bench's paced change floor against the real kernel, in a throwaway namespace: one
// set element swapped forward and back, each transaction woken by the bench's write.

let ns: Netns;
let dir: string;

beforeAll(async () => {
  ns = await createNetns({ purpose: 'paced-floor' });
  dir = mkdtempSync(join(tmpdir(), 'na-paced-floor-'));
  const table = join(dir, 'table.nft');
  writeFileSync(
    table,
    'add table ip kube-proxy\nadd set ip kube-proxy s { type ipv4_addr; }\nadd element ip kube-proxy s { 10.0.0.1 }\n',
  );
  await ns.exec('nft', ['-f', table]);
});

afterAll(async () => {
  await ns?.delete();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the paced change floor (real kernel)', () => {
  it('times each woken transaction and leaves the kernel as each pair found it', async () => {
    const files = { forward: join(dir, 'forward.nft'), back: join(dir, 'back.nft') };
    const set = 'ip kube-proxy s';
    writeFileSync(files.forward, `delete element ${set} { 10.0.0.1 }\nadd element ${set} { 10.0.0.2 }\n`);
    writeFileSync(files.back, `delete element ${set} { 10.0.0.2 }\nadd element ${set} { 10.0.0.1 }\n`);
    const floor = await pacedChangeFloor(ns, files, 3, 5, [
      '--import',
      'tsx',
      '--conditions=@nodeagent/source',
    ]);
    expect(floor.samples).toBe(3);
    expect(floor.p50Ms).toBeGreaterThan(0);
    expect(floor.wakeP50Ms).toBeLessThanOrEqual(floor.p50Ms);
    expect(floor.maxMs).toBeGreaterThanOrEqual(floor.p99Ms);
    // Warm-up forward and back, then forward, back, forward: the spare address is in.
    const listed = await ns.exec('nft', ['list', 'set', 'ip', 'kube-proxy', 's']);
    expect(listed.stdout).toContain('10.0.0.2');
    expect(listed.stdout).not.toContain('10.0.0.1');
  });
});
