import { afterAll, describe, expect, it } from 'vitest';
import { IncrementalNftTable, type NftContribution } from '../../src/nftables/incremental-table';
import { NetlinkNftablesClient } from '../../src/nftables/netlink/client';
import { NftKernelError } from '../../src/nftables/netlink/errors';
import { NftTransaction } from '../../src/nftables/transaction';
import { NetnsScope } from './nft-netlink-harness';

// A large set a full replacement declares with a size (IncrementalNftTableOptions.sizeLargeSets,
// issue #54) against the kernel: the size reaches it, every element lands, and the size is the
// kernel's limit for the set, which is why a set outgrowing it is replaced whole, not diffed.

const HANG_GUARD = 120_000;
const TABLE = 'set-size';
const pair = { kind: 'set', name: 'pairs', type: 'ipv4_addr . ipv4_addr' } as const;

/** `count` elements `ip . ip` from the `first`-th address of 10.0.0.0/8 on. */
function pairs(first: number, count: number): NftContribution {
  return {
    elements: Array.from({ length: count }, (_, k) => {
      const i = first + k;
      const ip = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
      return { kind: 'element', container: pair.name, key: [ip, ip] };
    }),
  };
}

describe('large sets declared with a size', () => {
  const scope = new NetnsScope('na-nftsize');
  afterAll(() => scope.cleanup());

  it(
    'reach the kernel with their size and every element; one past the size is refused there',
    async () => {
      const ns = await scope.create();
      const client = new NetlinkNftablesClient({ family: 'ip', table: TABLE, netns: { path: ns.path } });
      try {
        const table = new IncrementalNftTable({ kind: 'table' }, { sizeLargeSets: true });
        table.set('base', { sets: [pair] });
        table.set('a', pairs(0, 20_000));
        await client.runTable(table);
        table.commit();
        const listed = async () => (await client.list()).sets.find((s) => s.name === pair.name);
        expect((await listed())?.size).toBe(65_536);
        expect((await client.list()).elements[pair.name]).toHaveLength(20_000);

        // Past 65,536 elements a diff would be refused: the table asks for a full replacement,
        // which declares the set again with room for the new count.
        table.set('b', pairs(20_000, 65_536 - 20_000 + 1));
        expect(table.diffTransaction()).toBeUndefined();
        await client.runTable(table);
        table.commit();
        expect((await listed())?.size).toBe(262_144);
        expect((await client.list()).elements[pair.name]).toHaveLength(65_537);

        // The kernel's side of it: a set holds no more elements than its size (ENFILE).
        const tx = new NftTransaction().add({ kind: 'set', name: 'tiny', type: 'ipv4_addr', size: 2 });
        for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
          tx.add({ kind: 'element', container: 'tiny', key: [ip] });
        const error = await client.run(tx).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(NftKernelError);
        expect((error as NftKernelError).errnoName).toBe('ENFILE');
      } finally {
        await client.close();
      }
    },
    HANG_GUARD,
  );
});
