// ctnetlink messages: the dump request, one dumped entry's tuples, and the delete request that
// names an entry by its original tuple (and zone and id, so a newer entry that reuses the tuple
// is not the one removed).

import ipaddr from 'ipaddr.js';
import { InvalidFieldError } from '../errors';
import {
  AttributeWriter,
  attributesByType,
  attributeU8,
  attributeU16,
  attributeU32,
} from '../nftables/netlink/attributes';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../nftables/netlink/constants';
import { encodeNfnlMessage, nftMessageParts } from '../nftables/netlink/message';
import {
  AF_INET,
  AF_INET6,
  CTA_FILTER_F_PROTO_NUM,
  Cta,
  CtaFilter,
  CtaIp,
  CtaProto,
  CtaTuple,
  IpctnlMsg,
  NFNL_SUBSYS_CTNETLINK,
} from './constants';

/** The conntrack table's address families, as a dump or delete names them. */
export type ConntrackFamily = 'ipv4' | 'ipv6';

/** One direction of a conntrack entry: addresses, layer-4 protocol number and ports. */
export interface ConntrackTuple {
  readonly src: string;
  readonly dst: string;
  /** IPPROTO_* (17 for UDP, 6 for TCP). */
  readonly protocol: number;
  /** 0 for a protocol without ports. */
  readonly srcPort: number;
  readonly dstPort: number;
}

/** One conntrack entry: its original (client → service) and reply (backend → client) tuples. */
export interface ConntrackFlow {
  readonly family: ConntrackFamily;
  readonly original: ConntrackTuple;
  readonly reply: ConntrackTuple;
  /** CTA_ZONE (0 when absent: the default zone). */
  readonly zone: number;
  /** CTA_ID, when the kernel reported it. */
  readonly id?: number;
}

/** IPPROTO_UDP. */
export const IPPROTO_UDP = 17;

const AF = { ipv4: AF_INET, ipv6: AF_INET6 } as const;

/** nlmsg type of a ctnetlink message. */
export function ctnetlinkMessageType(msg: number): number {
  return (NFNL_SUBSYS_CTNETLINK << 8) | msg;
}

/**
 * IPCTNL_MSG_CT_GET with NLM_F_DUMP: every entry of `family`'s table, or with `protocol` (an
 * IPPROTO_* number) only the entries whose original tuple has that protocol. The kernel filters
 * (CTA_FILTER with the protocol flag, Linux 5.8+), so the others are neither copied nor decoded;
 * an older kernel ignores the filter and dumps everything, so a caller still checks the protocol.
 */
export function encodeConntrackDump(family: ConntrackFamily, seq: number, protocol?: number): Buffer {
  const w = new AttributeWriter(32);
  if (protocol !== undefined) {
    w.nested(Cta.TUPLE_ORIG, (t) => t.nested(CtaTuple.PROTO, (p) => p.u8(CtaProto.NUM, protocol)));
    // Host order: CTA_FILTER_ORIG_FLAGS is read with nla_get_u32, not as a network-order field.
    w.nested(Cta.FILTER, (f) => f.bytes(CtaFilter.ORIG_FLAGS, hostU32(CTA_FILTER_F_PROTO_NUM)));
  }
  return encodeNfnlMessage(
    ctnetlinkMessageType(IpctnlMsg.CT_GET),
    NLM_F_REQUEST | NLM_F_DUMP,
    seq,
    AF[family],
    w.toBuffer(),
  );
}

/** `value` as netlink's host-order u32 (little-endian, as @nodeagent/primitives' writer assumes). */
function hostU32(value: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

function decodeAddress(payload: Buffer, family: ConntrackFamily, field: string): string {
  const want = family === 'ipv4' ? 4 : 16;
  if (payload.length !== want)
    throw new InvalidFieldError(field, payload.length, `bytes is not a ${family} address`);
  return ipaddr.fromByteArray([...payload]).toString();
}

function decodeTuple(buffer: Buffer, family: ConntrackFamily, which: string): ConntrackTuple {
  const attrs = attributesByType(buffer);
  const ip = attrs.get(CtaTuple.IP);
  const proto = attrs.get(CtaTuple.PROTO);
  if (!ip || !proto)
    throw new InvalidFieldError(`conntrack ${which} tuple`, buffer.length, 'has no IP or PROTO');
  const ips = attributesByType(ip.payload);
  const [srcType, dstType] = family === 'ipv4' ? [CtaIp.V4_SRC, CtaIp.V4_DST] : [CtaIp.V6_SRC, CtaIp.V6_DST];
  const src = ips.get(srcType);
  const dst = ips.get(dstType);
  if (!src || !dst)
    throw new InvalidFieldError(`conntrack ${which} tuple`, family, 'has no source or destination');
  const l4 = attributesByType(proto.payload);
  const num = l4.get(CtaProto.NUM);
  if (!num) throw new InvalidFieldError(`conntrack ${which} tuple`, buffer.length, 'has no protocol number');
  const srcPort = l4.get(CtaProto.SRC_PORT);
  const dstPort = l4.get(CtaProto.DST_PORT);
  return {
    src: decodeAddress(src.payload, family, `conntrack ${which} source`),
    dst: decodeAddress(dst.payload, family, `conntrack ${which} destination`),
    protocol: attributeU8(num),
    srcPort: srcPort ? attributeU16(srcPort) : 0,
    dstPort: dstPort ? attributeU16(dstPort) : 0,
  };
}

/** One IPCTNL_MSG_CT_NEW body of a dump (nfgenmsg + attributes) as a flow. */
export function decodeConntrackEntry(body: Buffer): ConntrackFlow {
  const { family: af, attributes } = nftMessageParts(body);
  const family: ConntrackFamily | undefined = af === AF_INET ? 'ipv4' : af === AF_INET6 ? 'ipv6' : undefined;
  if (!family) throw new InvalidFieldError('conntrack entry family', af, 'is not AF_INET or AF_INET6');
  const attrs = attributesByType(attributes);
  const orig = attrs.get(Cta.TUPLE_ORIG);
  const reply = attrs.get(Cta.TUPLE_REPLY);
  if (!orig || !reply)
    throw new InvalidFieldError('conntrack entry', attributes.length, 'has no original or reply tuple');
  const zone = attrs.get(Cta.ZONE);
  const id = attrs.get(Cta.ID);
  return {
    family,
    original: decodeTuple(orig.payload, family, 'original'),
    reply: decodeTuple(reply.payload, family, 'reply'),
    zone: zone ? attributeU16(zone) : 0,
    ...(id ? { id: attributeU32(id) } : {}),
  };
}

function writeTuple(w: AttributeWriter, type: number, tuple: ConntrackTuple, family: ConntrackFamily): void {
  const [srcType, dstType] = family === 'ipv4' ? [CtaIp.V4_SRC, CtaIp.V4_DST] : [CtaIp.V6_SRC, CtaIp.V6_DST];
  w.nested(type, (t) => {
    t.nested(CtaTuple.IP, (ip) => {
      ip.bytes(srcType, Uint8Array.from(ipaddr.parse(tuple.src).toByteArray()));
      ip.bytes(dstType, Uint8Array.from(ipaddr.parse(tuple.dst).toByteArray()));
    });
    t.nested(CtaTuple.PROTO, (p) => {
      p.u8(CtaProto.NUM, tuple.protocol);
      p.u16(CtaProto.SRC_PORT, tuple.srcPort);
      p.u16(CtaProto.DST_PORT, tuple.dstPort);
    });
  });
}

/**
 * IPCTNL_MSG_CT_DELETE (with NLM_F_ACK) of the entry whose original tuple, zone and id are
 * `flow`'s. A delete always names a tuple: without one the kernel flushes the whole table.
 */
export function encodeConntrackDelete(flow: ConntrackFlow, seq: number): Buffer {
  const w = new AttributeWriter(96);
  writeTuple(w, Cta.TUPLE_ORIG, flow.original, flow.family);
  if (flow.zone !== 0) w.u16(Cta.ZONE, flow.zone);
  if (flow.id !== undefined) w.u32(Cta.ID, flow.id);
  return encodeNfnlMessage(
    ctnetlinkMessageType(IpctnlMsg.CT_DELETE),
    NLM_F_REQUEST | NLM_F_ACK,
    seq,
    AF[flow.family],
    w.toBuffer(),
  );
}
