import { afterAll, describe, expect, it } from 'vitest';
import { NetlinkNftablesClient } from '../../src/nftables/netlink/client';
import { encodeOperations } from '../../src/nftables/netlink/encode';
import { NftKernelError } from '../../src/nftables/netlink/errors';
import { NetnsChannel } from '../../src/nftables/netlink/netns-channel';
import { NftTransaction } from '../../src/nftables/transaction';
import { type Netns, NetnsScope } from './nft-netlink-harness';

// nf_tables commits a batch atomically only when it arrives as one sendmsg, and a socket's send
// buffer caps a datagram at twice net.core.wmem_max. A batch bigger than that must still go out
// whole (the client forces a bigger buffer), and a failing one must still leave nothing behind.

const HANG_GUARD = 600_000;
const TABLE = 'batch-size';

/** `count` map elements with a comment each (~170 bytes apiece on the wire). */
function bigTransaction(count: number): NftTransaction {
  const tx = new NftTransaction()
    .add({ kind: 'table' })
    .add({ kind: 'chain', name: 'target' })
    .add({ kind: 'map', name: 'big', type: 'ipv4_addr . inet_proto . inet_service', valueType: 'verdict' });
  for (let i = 0; i < count; i++)
    tx.add({
      kind: 'element',
      container: 'big',
      key: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'tcp', String(1 + (i % 60_000))],
      value: ['goto target'],
      comment: `element ${i} of a batch larger than the socket's default send buffer, padded to a long comment`,
    });
  return tx;
}

function batchBytes(tx: NftTransaction): number {
  return encodeOperations(tx.operations, { family: 'ip', table: TABLE, sets: new Map() }).batch.byteLength;
}

async function defaultLimit(ns: Netns): Promise<number> {
  const channel = await NetnsChannel.open(ns.path);
  try {
    return channel.maxDatagram;
  } finally {
    channel.close();
  }
}

describe('netlink batches larger than the socket send buffer', () => {
  const scope = new NetnsScope('na-nftbig');
  afterAll(() => scope.cleanup());

  it(
    'apply atomically as one batch, and a failing one leaves the kernel unchanged',
    async () => {
      const ns = await scope.create();
      const limit = await defaultLimit(ns);
      expect(limit).toBeGreaterThan(0);
      const count = Math.ceil((limit * 1.2) / 170);
      const tx = bigTransaction(count);
      const bytes = batchBytes(tx);
      expect(bytes).toBeGreaterThan(limit);

      const client = new NetlinkNftablesClient({ family: 'ip', table: TABLE, netns: { path: ns.path } });
      try {
        // A failing last operation: the kernel must abort the whole batch, elements included.
        const failing = bigTransaction(count).delete({ kind: 'chain', name: 'no-such-chain' });
        const error = await client.run(failing).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(NftKernelError);
        expect((error as NftKernelError).errnoName).toBe('ENOENT');
        expect((error as NftKernelError).operation).toContain('no-such-chain');
        const afterFailure = await ns.exec('nft', ['list', 'tables']);
        expect(afterFailure.stdout).not.toContain(TABLE);

        await client.run(tx);
        const listing = (await ns.exec('nft', ['list', 'map', 'ip', TABLE, 'big'])).stdout;
        const last = count - 1;
        expect(listing).toContain(`element ${last} of a batch`);
        expect(listing).toMatch(/10\.0\.0\.0 \. tcp \. 1 [^\n]*"element 0 of a batch/);
        expect(listing.match(/comment "element \d+ of a batch/g)?.length).toBe(count);
      } finally {
        await client.close();
      }
    },
    HANG_GUARD,
  );
});
