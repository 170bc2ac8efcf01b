// A channel that records every datagram a NetlinkNftablesClient sends and answers as nfnetlink
// would, and the batches of nft-netlink-datagrams.test.ts. fixtures/nft-netlink-datagrams.json
// holds the length and sha256 of each datagram the client sent for them before batches were
// encoded straight into their datagram (issue #54; one buffer per message, copied into it).

import { IncrementalNftTable, type NftContribution } from '../src/nftables/index';
import type { NfnetlinkChannel } from '../src/nftables/netlink/channel';
import {
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLMSG_DONE,
  NLMSG_ERROR,
} from '../src/nftables/netlink/constants';
import type { NftNetlinkTransportError } from '../src/nftables/netlink/errors';
import { type ReceivedMessage, splitMessages } from '../src/nftables/netlink/message';
import { NftTransaction } from '../src/nftables/transaction';

function reply(type: number, seq: number, body: Buffer): Buffer {
  const out = Buffer.alloc(16 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt32LE(seq, 8);
  body.copy(out, 16);
  return out;
}

/** NLMSG_ERROR answering `to` with `errno` (0: an ACK). */
function errorReply(to: ReceivedMessage, errno: number): Buffer {
  const body = Buffer.alloc(20);
  body.writeInt32LE(-errno, 0);
  body.writeUInt32LE(16, 4);
  body.writeUInt16LE(to.type, 8);
  body.writeUInt32LE(to.seq, 12);
  return reply(NLMSG_ERROR, to.seq, body);
}

/**
 * Records each datagram (a copy: the sender may reuse its buffer). Dumps are answered empty,
 * so the client starts from no sets; a batch message is refused with `refuse(batch, position)`'s
 * errno (batch: the count of batches before it; position: after BEGIN, from 0).
 */
export class RecordingChannel implements NfnetlinkChannel {
  readonly datagrams: Buffer[] = [];
  private listener: (d: Buffer) => void = () => {};
  private batches = 0;
  ackCapacity = 100;
  constructor(
    public maxDatagram = 1 << 24,
    private readonly refuse: (batch: number, position: number) => number = () => 0,
  ) {}
  async send(datagram: Buffer): Promise<void> {
    this.datagrams.push(Buffer.from(datagram));
    const messages = splitMessages(datagram);
    const first = messages[0] as ReceivedMessage;
    const replies: Buffer[] = [];
    if (first.type === NFNL_MSG_BATCH_BEGIN) {
      const batch = this.batches++;
      messages.slice(1).forEach((m, i) => {
        if (m.type === NFNL_MSG_BATCH_END) return;
        const errno = this.refuse(batch, i);
        if (errno !== 0 || m.flags & NLM_F_ACK) replies.push(errorReply(m, errno));
      });
    } else if (first.flags & NLM_F_DUMP) replies.push(reply(NLMSG_DONE, first.seq, Buffer.alloc(4)));
    else replies.push(errorReply(first, 0));
    setImmediate(() => {
      for (const r of replies) this.listener(r);
    });
  }
  onDatagram(listener: (d: Buffer) => void): void {
    this.listener = listener;
  }
  onFailure(_listener: (e: NftNetlinkTransportError) => void): void {}
  setActive(_active: boolean): void {}
  close(): void {}
}

/** A datagram as hex with every seq made relative to its first message's (the session's start is the clock's). */
export function normalizedHex(datagram: Buffer): string {
  const out = Buffer.from(datagram);
  const base = out.readUInt32LE(8);
  for (let at = 0; at + 16 <= out.length; at += (out.readUInt32LE(at) + 3) & ~3)
    out.writeUInt32LE((out.readUInt32LE(at + 8) - base) >>> 0, at + 8);
  return out.toString('hex');
}

/** Table, chains (a base chain), sets and maps of every value kind, rules with anonymous sets, elements and deletes. */
export function mixedTransaction(): NftTransaction {
  const tx = new NftTransaction()
    .add({ kind: 'table', comment: 'rules for kube-proxy' })
    .add({ kind: 'chain', name: 'services', type: 'nat', hook: 'prerouting', priority: -100 })
    .add({ kind: 'chain', name: 'endpoint-a' })
    .add({
      kind: 'map',
      name: 'service-ips',
      type: 'ipv4_addr . inet_proto . inet_service',
      valueType: 'verdict',
    })
    .add({
      kind: 'map',
      name: 'service-endpoints',
      type: 'ipv4_addr . inet_proto . inet_service . integer',
      valueType: 'ipv4_addr . inet_service',
    })
    .add({ kind: 'set', name: 'affinity', type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: '3h' })
    .add({ kind: 'rule', chain: 'services', rule: 'ip daddr . meta l4proto . th dport vmap @service-ips' })
    .add({ kind: 'rule', chain: 'endpoint-a', rule: 'meta l4proto { tcp, udp } counter', comment: 'ns/svc' })
    .add({ kind: 'element', container: 'affinity', key: ['10.0.0.9'], timeout: '10m' });
  for (let i = 0; i < 900; i++) {
    const ip = `10.96.${i >> 8}.${i & 255}`;
    tx.add({
      kind: 'element',
      container: 'service-ips',
      key: [ip, 'tcp', String(80 + (i % 1000))],
      value: ['goto endpoint-a'],
      ...(i % 7 === 0 ? { comment: `ns/svc-${i}:http` } : {}),
    });
  }
  for (let i = 0; i < 1200; i++)
    tx.add({
      kind: 'element',
      container: 'service-endpoints',
      key: [`10.96.${i >> 8}.${i & 255}`, 'tcp', '80', String(i % 3)],
      value: [`10.128.${i >> 8}.${i & 255}`, '8080'],
    });
  tx.delete({ kind: 'element', container: 'service-ips', key: ['10.96.0.1', 'tcp', '81'] });
  tx.delete({ kind: 'rule', chain: 'endpoint-a', rule: 'counter', handle: 4 });
  return tx;
}

/** A table for runTable: structure then its elements as text, several messages per map. */
export function incrementalTable(): IncrementalNftTable {
  const table = new IncrementalNftTable({ kind: 'table', comment: 'rules for kube-proxy' });
  table.set('base', {
    chains: [
      {
        chain: { kind: 'chain', name: 'services', type: 'nat', hook: 'prerouting', priority: -100 },
        rules: [{ rule: 'ip daddr . meta l4proto . th dport vmap @service-ips' }],
      },
      { chain: { kind: 'chain', name: 'endpoint-a' }, rules: [{ rule: 'counter' }] },
    ],
    sets: [
      {
        kind: 'map',
        name: 'service-ips',
        type: 'ipv4_addr . inet_proto . inet_service',
        valueType: 'verdict',
      },
      { kind: 'set', name: 'cluster-ips', type: 'ipv4_addr', comment: 'Active ClusterIPs' },
    ],
  });
  for (let i = 0; i < 2000; i++) {
    const ip = `10.97.${i >> 8}.${i & 255}`;
    const contribution: NftContribution = {
      elements: [
        { kind: 'element', container: 'service-ips', key: [ip, 'udp', '53'], value: ['goto endpoint-a'] },
        {
          kind: 'element',
          container: 'cluster-ips',
          key: [ip],
          ...(i % 5 === 0 ? { comment: `c${i}` } : {}),
        },
      ],
    };
    table.set(`svc-${i}`, contribution);
  }
  return table;
}
