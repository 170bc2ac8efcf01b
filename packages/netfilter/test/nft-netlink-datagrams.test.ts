import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchBuffer } from '../src/nftables/netlink/batch-buffer';
import { NetlinkNftablesClient, type NetlinkNftablesClientOptions } from '../src/nftables/netlink/client';
import {
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NftMsg,
  NLM_F_ACK,
  NLM_F_REQUEST,
} from '../src/nftables/netlink/constants';
import { encodeOperations } from '../src/nftables/netlink/encode';
import { NftBatchTooLargeError, NftKernelError } from '../src/nftables/netlink/errors';
import { nftMessageType, splitMessages } from '../src/nftables/netlink/message';
import { compileRule } from '../src/nftables/netlink/rule/index';
import { NftTransaction } from '../src/nftables/transaction';
import { incrementalTable, mixedTransaction, normalizedHex, RecordingChannel } from './nft-netlink-datagrams';

// Batches are encoded straight into the datagram they are sent from (issue #54). What the
// client sends must be, byte for byte, what it sent before, when every message was its own
// buffer copied into the datagram: the golden hashes were recorded from that code (f83bd0d8).

type Recorded = Record<string, { bytes: number; sha256: string }[]>;
const golden = JSON.parse(
  readFileSync(new URL('./fixtures/nft-netlink-datagrams.json', import.meta.url), 'utf8'),
) as Recorded;

function client(channel: RecordingChannel, options: Partial<NetlinkNftablesClientOptions> = {}) {
  return new NetlinkNftablesClient({ family: 'ip', table: 'kube-proxy', channel, ...options });
}

async function sent(work: (c: NetlinkNftablesClient) => Promise<void>, options = {}) {
  const channel = new RecordingChannel();
  await work(client(channel, options));
  return channel.datagrams.map((d) => {
    const hex = normalizedHex(d);
    return { bytes: d.length, sha256: createHash('sha256').update(hex, 'hex').digest('hex') };
  });
}

const SPLIT = { maxBatchBytes: 70_000, splitOversizedBatches: true };

describe('batch datagrams written once (issue #54)', () => {
  it('run, check and runTable send the same datagrams as the buffer-per-message encoding', async () => {
    expect(await sent((c) => c.run(mixedTransaction()))).toEqual(golden.run);
    expect(await sent((c) => c.check(mixedTransaction()))).toEqual(golden.check);
    expect(await sent((c) => c.runTable(incrementalTable()))).toEqual(golden.runTable);
  });

  it('a split batch goes out as the same consecutive datagrams, each framed BEGIN … END', async () => {
    const split = await sent((c) => c.run(mixedTransaction()), SPLIT);
    expect(split).toEqual(golden.split);
    const channel = new RecordingChannel();
    await client(channel, SPLIT).run(mixedTransaction());
    const batches = channel.datagrams.map(splitMessages).filter((m) => m[0]?.type === NFNL_MSG_BATCH_BEGIN);
    expect(batches).toHaveLength(2);
    for (const messages of batches) {
      expect(messages.at(-1)?.type).toBe(NFNL_MSG_BATCH_END);
      // Consecutive seqs from BEGIN to END, as the kernel's replies are matched by them.
      expect(messages.map((m) => m.seq - (messages[0]?.seq ?? 0))).toEqual(messages.map((_, i) => i));
    }
  });

  it("a refused element message names its operation, also in a split batch's second datagram", async () => {
    // The message the kernel refuses: the first of the service-endpoints elements.
    const messages = encodeOperations(mixedTransaction().operations, {
      family: 'ip',
      table: 'kube-proxy',
      sets: new Map(),
      compileRule,
    }).batch.items();
    const target = messages.findIndex((m) =>
      m.operation.startsWith('add element ip kube-proxy service-endpoints'),
    );
    expect(target).toBeGreaterThan(0);
    const whole = new RecordingChannel(1 << 24, (_batch, position) => (position === target ? 22 : 0));
    const error = await client(whole)
      .run(mixedTransaction())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NftKernelError);
    expect((error as NftKernelError).errnoName).toBe('EINVAL');
    expect((error as NftKernelError).operation).toMatch(
      /^add element ip kube-proxy service-endpoints \{ 10\.96\.0\.0 \. tcp \. 80 \. 0, .*\(\d+\)\s*\}$/,
    );
    // The first service-endpoints element is operation 9 + 900 (after 9 structure ops and 900 service-ips).
    expect((error as NftKernelError).index).toBe(909);

    // Split: the same message is in the second datagram, at its position there.
    const splitChannel = new RecordingChannel();
    await client(splitChannel, SPLIT).run(mixedTransaction());
    const first = splitMessages(splitChannel.datagrams[1] as Buffer).length - 2;
    expect(target).toBeGreaterThanOrEqual(first);
    const refusing = new RecordingChannel(1 << 24, (batch, position) =>
      batch === 1 && position === target - first ? 17 : 0,
    );
    const late = await client(refusing, SPLIT)
      .run(mixedTransaction())
      .catch((e: unknown) => e);
    expect((late as NftKernelError).errnoName).toBe('EEXIST');
    expect((late as NftKernelError).operation).toMatch(
      /^add element ip kube-proxy service-endpoints \{ 10\.96\.0\.0 \. tcp \. 80 \. 0, .* after 1 of 2 split batches were committed$/,
    );
    expect((late as NftKernelError).index).toBe(909);
  });

  it('an operation larger than the limit is refused before anything is sent, split or not', async () => {
    for (const options of [
      { maxBatchBytes: 20_000 },
      { maxBatchBytes: 20_000, splitOversizedBatches: true },
    ]) {
      const channel = new RecordingChannel();
      const error = await client(channel, options)
        .run(mixedTransaction())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NftBatchTooLargeError);
      expect((error as NftBatchTooLargeError).limit).toBe(20_000);
      // Only the dump of the table's sets went out.
      expect(channel.datagrams.map(splitMessages).some((m) => m[0]?.type === NFNL_MSG_BATCH_BEGIN)).toBe(
        false,
      );
    }
  });

  it('a client reuses its batch buffer: a small run after a large one sends only its own messages', async () => {
    const channel = new RecordingChannel();
    const c = client(channel);
    await c.run(mixedTransaction());
    const small = new NftTransaction().add({
      kind: 'element',
      container: 'affinity',
      key: ['10.0.0.10'],
      timeout: '1m',
    });
    await c.run(small);
    const datagram = channel.datagrams.at(-2) as Buffer;
    const last = splitMessages(datagram);
    expect(last.map((m) => m.type)).toEqual([
      NFNL_MSG_BATCH_BEGIN,
      nftMessageType(NftMsg.NEWSETELEM),
      NFNL_MSG_BATCH_END,
    ]);
    expect(c.lastBatch).toMatchObject({ operations: 1, messages: 1, bytes: datagram.length });
  });
});

describe('BatchBuffer', () => {
  const attributes = (n: number, fill: number) => Buffer.alloc(n, fill);

  it.each([
    ['in place', true],
    ['by copying (no address space reserved)', false],
  ])('grows %s across many messages; the bytes written first stay as written', (_how, inPlace) => {
    const batch = new BatchBuffer(undefined, inPlace);
    for (let i = 0; i < 3000; i++)
      batch.append(nftMessageType(NftMsg.NEWSETELEM), 0, 2, attributes(200, i & 255), `op ${i}`, i);
    expect(batch.byteLength).toBe(40 + 3000 * 220);
    const items = batch.items();
    expect(items[0]?.attributes.equals(attributes(200, 0))).toBe(true);
    expect(items[2999]?.attributes.equals(attributes(200, 2999 & 255))).toBe(true);
    expect(batch.messages[1]).toEqual({ at: 240, length: 220, operation: 'op 1', index: 1 });
  });

  it('frames a part of the batch as a copy and the whole in place: BEGIN, numbered messages, END', () => {
    const batch = new BatchBuffer();
    for (let i = 0; i < 4; i++) batch.append(nftMessageType(NftMsg.NEWRULE), 0, 2, attributes(8, i), '', i);
    let seq = 0xfffffffe;
    const next = () => {
      seq = (seq + 1) >>> 0;
      return seq;
    };
    const part = batch.frame(1, 3, true, NLM_F_REQUEST | NLM_F_ACK, next);
    expect(part.datagram.length).toBe(20 + 2 * 28 + 20);
    expect(batch.bytesOf(1, 3)).toBe(part.datagram.length);
    const messages = splitMessages(part.datagram);
    expect(messages.map((m) => [m.type, m.flags, m.seq])).toEqual([
      [NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0xffffffff],
      [nftMessageType(NftMsg.NEWRULE), NLM_F_REQUEST | NLM_F_ACK, 0],
      [nftMessageType(NftMsg.NEWRULE), NLM_F_REQUEST | NLM_F_ACK, 1],
      [NFNL_MSG_BATCH_END, NLM_F_REQUEST, 2],
    ]);
    expect(part).toMatchObject({ begin: 0xffffffff, end: 2 });
    expect(messages[1]?.body.subarray(4).equals(attributes(8, 1))).toBe(true);
    // The part was a copy: the batch's own headers are still unnumbered.
    expect(batch.items().map((i) => i.flags)).toEqual([0, 0, 0, 0]);
    const whole = batch.frame(0, 4, false, NLM_F_REQUEST, next);
    expect(whole.datagram.length).toBe(20 + 4 * 28);
    expect(splitMessages(whole.datagram).map((m) => m.seq)).toEqual([3, 4, 5, 6, 7]);
    expect(whole.end).toBe(8);
    expect(() => batch.frame(3, 5, true, 0, next)).toThrow(/not within 0..4/);
  });

  it('refuses to grow past its limit with NftBatchTooLargeError, and release() empties it for reuse', () => {
    const batch = new BatchBuffer(200_000);
    const grow = () => {
      for (let i = 0; i < 1000; i++)
        batch.append(nftMessageType(NftMsg.NEWSETELEM), 0, 2, attributes(1000, 1), '', i);
    };
    expect(grow).toThrow(NftBatchTooLargeError);
    batch.release();
    expect(batch.messages).toHaveLength(0);
    expect(batch.byteLength).toBe(40);
    batch.append(nftMessageType(NftMsg.NEWTABLE), 0, 2, attributes(4, 9), 'again', 0);
    expect(batch.items()).toEqual([
      {
        type: nftMessageType(NftMsg.NEWTABLE),
        flags: 0,
        family: 2,
        attributes: attributes(4, 9),
        operation: 'again',
        index: 0,
      },
    ]);
  });
});

describe('NetlinkNftablesClient.prepare (issue #54)', () => {
  it('opens the channel and readies it for large datagrams, sending nothing; the batch after it is the same', async () => {
    const channel = new (class extends RecordingChannel {
      prepared = 0;
      async prepareFit(): Promise<void> {
        this.prepared++;
      }
    })();
    const c = client(channel);
    await c.prepare();
    expect(channel.prepared).toBe(1);
    expect(channel.datagrams).toHaveLength(0);
    await c.runTable(incrementalTable());
    expect(
      channel.datagrams.map((d) => ({
        bytes: d.length,
        sha256: createHash('sha256').update(normalizedHex(d), 'hex').digest('hex'),
      })),
    ).toEqual(golden.runTable);
  });
});
