import { describe, expect, it } from 'vitest';
import {
  type ConntrackFlow,
  ConntrackNetlink,
  ConntrackNetlinkError,
  decodeConntrackEntry,
  encodeConntrackDelete,
  encodeConntrackDump,
} from '../src/conntrack/index';
import { AttributeWriter, readAttributes } from '../src/nftables/netlink/attributes';
import type { NfnetlinkChannel } from '../src/nftables/netlink/channel';
import {
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
} from '../src/nftables/netlink/constants';
import type { NftNetlinkTransportError } from '../src/nftables/netlink/errors';
import { type ReceivedMessage, splitMessages } from '../src/nftables/netlink/message';

// Values from linux/netfilter/nfnetlink_conntrack.h: NFNL_SUBSYS_CTNETLINK 1, IPCTNL_MSG_CT_GET 1,
// IPCTNL_MSG_CT_DELETE 2, CTA_TUPLE_ORIG 1, CTA_TUPLE_REPLY 2, CTA_ID 12, CTA_ZONE 18,
// CTA_TUPLE_IP 1, CTA_TUPLE_PROTO 2, CTA_IP_V4_SRC 1 .. V6_DST 4, CTA_PROTO_NUM 1, SRC_PORT 2, DST_PORT 3.

const UDP_FLOW: ConntrackFlow = {
  family: 'ipv4',
  original: { src: '10.0.0.2', dst: '10.96.0.53', protocol: 17, srcPort: 40053, dstPort: 53 },
  reply: { src: '10.244.1.5', dst: '10.0.0.2', protocol: 17, srcPort: 5353, dstPort: 40053 },
  zone: 0,
  id: 0xdeadbeef,
};

function ip(b: string): number[] {
  return b.split('.').map(Number);
}

/** The body of a dumped IPCTNL_MSG_CT_NEW as the kernel writes it (nested flags set). */
function entryBody(flow: ConntrackFlow, zone?: number): Buffer {
  const w = new AttributeWriter();
  for (const [type, t] of [
    [1, flow.original],
    [2, flow.reply],
  ] as const) {
    w.nested(type, (tw) => {
      tw.nested(1, (iw) => {
        iw.bytes(1, Uint8Array.from(ip(t.src)));
        iw.bytes(2, Uint8Array.from(ip(t.dst)));
      });
      tw.nested(2, (pw) => {
        pw.u8(1, t.protocol);
        pw.u16(2, t.srcPort);
        pw.u16(3, t.dstPort);
      });
    });
  }
  w.u32(3, 0x188); // CTA_STATUS, ignored
  w.u32(12, flow.id ?? 0);
  if (zone !== undefined) w.u16(18, zone);
  return Buffer.concat([Buffer.from([2, 0, 0, 0]), w.toBuffer()]);
}

function message(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  const padded = Buffer.alloc((body.length + 3) & ~3);
  body.copy(padded);
  return Buffer.concat([h, padded]);
}

function errorReply(to: ReceivedMessage, errno: number): Buffer {
  const body = Buffer.alloc(20);
  body.writeInt32LE(-errno, 0);
  body.writeUInt32LE(16, 4);
  body.writeUInt16LE(to.type, 8);
  body.writeUInt32LE(to.seq, 12);
  return message(NLMSG_ERROR, 0, to.seq, body);
}

/** A kernel stand-in: dumps `entries` over two datagrams; answers deletes with `deleteErrno` per flow index. */
class FakeCtnetlink implements NfnetlinkChannel {
  readonly sent: ReceivedMessage[][] = [];
  listener: (d: Buffer) => void = () => {};
  ackCapacity = 2;
  maxDatagram = 1 << 20;
  deletes = 0;
  constructor(
    readonly entries: Buffer[],
    readonly deleteErrno: (index: number) => number = () => 0,
  ) {}
  async send(datagram: Buffer): Promise<void> {
    const messages = splitMessages(datagram);
    this.sent.push(messages);
    queueMicrotask(() => {
      for (const m of messages) {
        if (m.type === ((1 << 8) | 1)) {
          for (const e of this.entries) this.listener(message((1 << 8) | 0, 2, m.seq, e));
          this.listener(message(NLMSG_DONE, 2, m.seq, Buffer.alloc(4)));
        } else this.listener(errorReply(m, this.deleteErrno(this.deletes++)));
      }
    });
  }
  onDatagram(l: (d: Buffer) => void): void {
    this.listener = l;
  }
  onFailure(_l: (e: NftNetlinkTransportError) => void): void {}
  setActive(): void {}
  close(): void {}
}

describe('ctnetlink codec', () => {
  it('asks for a dump of one family: type CTNETLINK<<8 | CT_GET, REQUEST|DUMP, nfgenmsg AF_INET6', () => {
    const [m] = splitMessages(encodeConntrackDump('ipv6', 7));
    expect(m).toMatchObject({ type: 0x101, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 7 });
    expect([...m!.body]).toEqual([10, 0, 0, 0]);
  });

  it('asks the kernel for one protocol: CTA_TUPLE_ORIG with its number, CTA_FILTER ORIG_FLAGS = PROTO_NUM', () => {
    const [m] = splitMessages(encodeConntrackDump('ipv4', 8, 17));
    expect(m).toMatchObject({ type: 0x101, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 8 });
    expect(m!.body.readUInt8(0)).toBe(2);
    const attrs = readAttributes(m!.body.subarray(4));
    // CTA_TUPLE_ORIG 1, CTA_FILTER 25 (nested both).
    expect(attrs.map((a) => [a.type, a.nested])).toEqual([
      [1, true],
      [25, true],
    ]);
    const [proto] = readAttributes(attrs[0]!.payload);
    expect(proto).toMatchObject({ type: 2, nested: true });
    expect(readAttributes(proto!.payload).map((a) => [a.type, [...a.payload]])).toEqual([[1, [17]]]);
    // CTA_FILTER_ORIG_FLAGS 1 = CTA_FILTER_F_CTA_PROTO_NUM (1 << 3), a host-order u32.
    const [flags] = readAttributes(attrs[1]!.payload);
    expect([flags!.type, flags!.payload.readUInt32LE(0)]).toEqual([1, 8]);
  });

  it('decodes both tuples, the id and the zone of a dumped entry', () => {
    expect(decodeConntrackEntry(entryBody(UDP_FLOW))).toEqual(UDP_FLOW);
    expect(decodeConntrackEntry(entryBody(UDP_FLOW, 7)).zone).toBe(7);
  });

  it('deletes by the original tuple, zone and id, asking for an ACK', () => {
    const [m] = splitMessages(encodeConntrackDelete({ ...UDP_FLOW, zone: 3 }, 9));
    expect(m).toMatchObject({ type: 0x102, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 9 });
    expect(m!.body.readUInt8(0)).toBe(2);
    const attrs = readAttributes(m!.body.subarray(4));
    expect(attrs.map((a) => a.type)).toEqual([1, 18, 12]);
    const [tupleIp, tupleProto] = readAttributes(attrs[0]!.payload);
    expect(attrs[0]!.nested && tupleIp!.nested && tupleProto!.nested).toBe(true);
    expect(readAttributes(tupleIp!.payload).map((a) => [a.type, [...a.payload].join('.')])).toEqual([
      [1, '10.0.0.2'],
      [2, '10.96.0.53'],
    ]);
    expect(readAttributes(tupleProto!.payload).map((a) => [a.type, a.payload.toString('hex')])).toEqual([
      [1, '11'],
      [2, '9c75'],
      [3, '0035'],
    ]);
    expect(attrs[1]!.payload.readUInt16BE(0)).toBe(3);
    expect(attrs[2]!.payload.readUInt32BE(0)).toBe(0xdeadbeef);
    // The decoded form of a delete's tuple is the flow's: encode and decode agree.
    const v6: ConntrackFlow = {
      family: 'ipv6',
      original: { src: 'fd00::2', dst: 'fd00:96::53', protocol: 17, srcPort: 1, dstPort: 53 },
      reply: { src: 'fd00:244::5', dst: 'fd00::2', protocol: 17, srcPort: 5353, dstPort: 1 },
      zone: 0,
    };
    const [d] = splitMessages(encodeConntrackDelete(v6, 1));
    const ip6 = readAttributes(readAttributes(readAttributes(d!.body.subarray(4))[0]!.payload)[0]!.payload);
    expect(ip6.map((a) => [a.type, a.payload.length])).toEqual([
      [3, 16],
      [4, 16],
    ]);
  });
});

describe('ConntrackNetlink', () => {
  it('lists the entries of a dump', async () => {
    const kernel = new FakeCtnetlink([entryBody(UDP_FLOW), entryBody({ ...UDP_FLOW, id: 1 })]);
    const ct = new ConntrackNetlink(kernel);
    const flows = await ct.listEntries('ipv4');
    expect(flows.map((f) => f.id)).toEqual([0xdeadbeef, 1]);
  });

  it('counts deletions; ENOENT (already gone) is neither counted nor an error; chunks by ackCapacity', async () => {
    const kernel = new FakeCtnetlink([], (i) => (i === 1 ? 2 : 0));
    const ct = new ConntrackNetlink(kernel);
    expect(await ct.deleteEntries([UDP_FLOW, UDP_FLOW, UDP_FLOW])).toBe(2);
    expect(kernel.sent.map((d) => d.length)).toEqual([2, 1]);
  });

  it('rejects another errno after trying every entry, with the count it deleted', async () => {
    const kernel = new FakeCtnetlink([], (i) => (i === 0 ? 1 : 0));
    const ct = new ConntrackNetlink(kernel);
    const err = await ct.deleteEntries([UDP_FLOW, UDP_FLOW, UDP_FLOW]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConntrackNetlinkError);
    expect(err).toMatchObject({ errno: 1, deleted: 2 });
    expect(await ct.deleteEntries([])).toBe(0);
  });
});
