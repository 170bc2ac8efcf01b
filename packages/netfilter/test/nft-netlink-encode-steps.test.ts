import { isInvalidOptionError } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../src/nftables/id-table';
import { IncrementalNftTable } from '../src/nftables/incremental-table';
import { NetlinkNftablesClient } from '../src/nftables/netlink/client';
import type { NftPackedElementVisitor } from '../src/nftables/packed-element';
import { incrementalTable, normalizedHex, RecordingChannel } from './nft-netlink-datagrams';

// A full sync's table is encoded in steps, handing the event loop back between them (the
// kube-proxy event-loop bench: at 250k endpoints one encoding was ~0.1 s of the main thread).
// The steps must give the very batch one pass gives, and must let the loop run.

/** A kube-proxy-like table with one container of `n` elements (several steps of 4096). */
function bigTable(n: number): IncrementalNftTable {
  const table = new IncrementalNftTable({ kind: 'table', comment: 'rules for kube-proxy' });
  table.set('base', {
    sets: [
      {
        kind: 'map',
        name: 'service-ips',
        type: 'ipv4_addr . inet_proto . inet_service',
        valueType: 'verdict',
      },
    ],
  });
  for (let i = 0; i < n; i++)
    table.set(`svc-${i}`, {
      elements: [
        {
          kind: 'element',
          container: 'service-ips',
          key: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'tcp', '80'],
          value: ['goto endpoint-a'],
        },
      ],
    });
  return table;
}

async function runTable(table: IncrementalNftTable, encodeSliceMs: number) {
  const channel = new RecordingChannel();
  const client = new NetlinkNftablesClient({ family: 'ip', table: 'kube-proxy', channel, encodeSliceMs });
  // Turns of the event loop while runTable runs.
  let turns = 0;
  let running = true;
  const turn = () => {
    turns++;
    if (running) setImmediate(turn);
  };
  setImmediate(turn);
  await client.runTable(table);
  running = false;
  return { datagrams: channel.datagrams.map(normalizedHex), turns };
}

describe('a full table encoded in steps', () => {
  it('IdTable.forEachFrom visits in slices what forEach visits, holes skipped, in order', () => {
    const t = new IdTable<string>();
    for (let i = 0; i < 100; i++) t.set(`id-${i}`, `v${i}`);
    for (let i = 0; i < 100; i += 7) t.delete(`id-${i}`);
    const all: string[] = [];
    t.forEach((v, id) => {
      all.push(`${id}=${v}`);
    });
    for (const slice of [1, 3, 10, 99, 100, 1000]) {
      const sliced: string[] = [];
      let calls = 0;
      for (let at = 0; at >= 0; calls++) at = t.forEachFrom(at, slice, (v, id) => sliced.push(`${id}=${v}`));
      expect(sliced).toEqual(all);
      expect(calls).toBe(Math.max(1, Math.ceil(100 / slice)));
    }
  });

  it('IdTable.indexAppendedSome indexes appended ids in steps as one read does, duplicates merged', () => {
    const fill = (t: IdTable<string, string>) => {
      for (let i = 0; i < 300; i++) t.append(`id-${i % 250}`, `v${i}`, `owner-${i >> 4}`);
    };
    const joined = (held: string, value: string, source: string) => `${held}+${source}:${value}`;
    const whole = new IdTable<string, string>(joined);
    const stepped = new IdTable<string, string>(joined);
    fill(whole);
    fill(stepped);
    let steps = 0;
    while (!stepped.indexAppendedSome(7)) steps++;
    expect(steps).toBe(Math.ceil(300 / 7) - 1);
    const list = (t: IdTable<string, string>) => {
      const out: string[] = [];
      t.forEach((v, id) => {
        out.push(`${id}=${v}`);
      });
      return out;
    };
    expect(list(stepped)).toEqual(list(whole));
    expect(stepped.size).toBe(250);
    expect(stepped.get('id-3')).toBe('v3+owner-15:v253');
  });

  it('packedElementSteps gives forEachPackedElement’s elements, a slice per step', () => {
    const table = bigTable(10_000);
    const once: string[] = [];
    table.forEachPackedElement((container, id, keyAt, rest) =>
      once.push(`${container} ${id} ${keyAt} ${rest}`),
    );
    const stepped: string[] = [];
    const visit: NftPackedElementVisitor = (container, id, keyAt, rest) => {
      stepped.push(`${container} ${id} ${keyAt} ${rest}`);
    };
    let steps = 0;
    for (const _ of table.packedElementSteps(visit, 1000)) steps++;
    expect(stepped).toEqual(once);
    expect(once).toHaveLength(10_000);
    // A step between slices: 10 slices, 9 steps.
    expect(steps).toBe(9);
  });

  it('runTable sends the same batch whether it hands the loop back after every step or never', async () => {
    const never = await runTable(incrementalTable(), 1e9);
    const always = await runTable(incrementalTable(), 0);
    expect(always.datagrams).toEqual(never.datagrams);
    const bigNever = await runTable(bigTable(20_000), 1e9);
    const bigAlways = await runTable(bigTable(20_000), 0);
    expect(bigAlways.datagrams).toEqual(bigNever.datagrams);
    // 20,000 elements are 5 steps of 4096: the loop turned between them.
    expect(bigAlways.turns).toBeGreaterThanOrEqual(bigNever.turns + 4);
  });

  it.each([-1, Number.NaN])(
    'refuses encodeSliceMs %s when the client is made, naming the option',
    (encodeSliceMs) => {
      const channel = new RecordingChannel();
      let error: unknown;
      try {
        new NetlinkNftablesClient({ family: 'ip', table: 'kube-proxy', channel, encodeSliceMs });
      } catch (err) {
        error = err;
      }
      expect(isInvalidOptionError(error)).toBe(true);
      expect((error as Error).message).toMatch(/^invalid encodeSliceMs /);
      expect(channel.datagrams).toEqual([]);
    },
  );
});
