import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { type HeapSnapshotJson, heapCensus, heapGrowth } from './heap-census';
import { HeapSnapshots, parseSnapshotMinutes } from './heap-snapshots';
import { LOOP_PRELOAD } from './loop-preload';

const dir = mkdtempSync(join(tmpdir(), 'na-soak-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A snapshot of the given nodes, as V8 lays them out: [type, name, id, self_size] per node. */
function snapshot(nodes: [string, string, number][]): HeapSnapshotJson {
  const types = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'native'];
  const strings = [...new Set(nodes.map(([, name]) => name))];
  return {
    snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size'], node_types: [types] } },
    nodes: nodes.flatMap(([t, name, size], id) => [types.indexOf(t), strings.indexOf(name), id, size]),
    strings,
  };
}

describe('the heap census', () => {
  it('counts objects, closures and native objects by name and the rest by type, and ranks what changed most', () => {
    const before = heapCensus(
      snapshot([
        ['object', 'TokenBucket', 56],
        ['object', 'Object', 32],
        ['string', 'a', 24],
        ['string', 'b', 40],
        ['closure', 'get', 32],
      ]),
    );
    expect(before.get('object TokenBucket')).toEqual({ count: 1, bytes: 56 });
    expect(before.get('string')).toEqual({ count: 2, bytes: 64 });
    expect(before.get('closure get')).toEqual({ count: 1, bytes: 32 });
    const after = heapCensus(
      snapshot([
        ['object', 'TokenBucket', 56],
        ['object', 'TokenBucket', 56],
        ['object', 'TokenBucket', 56],
        ['string', 'a', 24],
        ['code', 'f', 2048],
        ['closure', 'get', 32],
      ]),
    );
    const growth = heapGrowth(before, after, 3);
    expect(growth.top.map((r) => r.kind)).toEqual(['code', 'object TokenBucket', 'string']);
    expect(growth.top[1]).toEqual({ kind: 'object TokenBucket', count: [1, 3], KiB: [0.1, 0.2] });
    expect(growth.top[0]).toEqual({ kind: 'code', count: [0, 1], KiB: [0, 2] });
    expect(() =>
      heapCensus({ ...snapshot([]), snapshot: { meta: { node_fields: ['id'], node_types: [[]] } } }),
    ).toThrow(/lack type, name or self_size/);
  });

  it('takes minutes for --heap-snapshots only as two or more ascending whole minutes of the run', () => {
    expect(parseSnapshotMinutes('20,60', 60)).toEqual([20, 60]);
    expect(parseSnapshotMinutes('5, 10, 15', 15)).toEqual([5, 10, 15]);
    for (const bad of ['20', '60,20', '0,10', '10,61', '10,x', '10,10', '1.5,3'])
      expect(parseSnapshotMinutes(bad, 60), bad).toBeUndefined();
  });

  it("writes a process's heap at each SIGUSR2 through the soak's preload, and names the class whose instances piled up between two", async () => {
    const preload = join(dir, 'preload.cjs');
    writeFileSync(preload, LOOP_PRELOAD);
    const script = `
      class CensusMarker { constructor(i) { this.i = i; } }
      const kept = [];
      process.stdin.on('data', () => { for (let i = 0; i < 5000; i++) kept.push(new CensusMarker(i)); process.stdout.write('grown\\n'); });
      process.stdout.write('ready\\n');`;
    const heap = new HeapSnapshots(join(dir, 'heap'), 'test');
    const child = spawn(process.execPath, ['--require', preload, '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '', ...heap.env() },
    });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('ready');
      heap.take(child.pid as number, 3);
      // The first snapshot must be whole before the instances are made.
      while (!existsSync(join(dir, 'heap', '1.heapsnapshot'))) await new Promise((r) => setTimeout(r, 50));
      child.stdin!.write('grow\n');
      expect((await lines.next()).value).toBe('grown');
      heap.take(child.pid as number, 7);
      const results = join(dir, 'results');
      mkdirSync(results);
      const { files, growth } = await heap.collect(results, 60_000);
      expect(files).toEqual([
        join(results, 'soak-test-minute-3.heapsnapshot'),
        join(results, 'soak-test-minute-7.heapsnapshot'),
      ]);
      expect(readdirSync(join(dir, 'heap'))).toEqual([]);
      const marker = growth?.top.find((r) => r.kind === 'object CensusMarker');
      expect(marker?.count).toEqual([0, 5000]);
      expect(growth!.totalMiB[1]).toBeGreaterThan(growth!.totalMiB[0]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
