import {
  attributeTable,
  type NetlinkAttributeWriter,
  readBe16,
  readBe32,
  readString,
  readU16,
  readU32,
} from '@nodeagent/primitives/netlink';
import {
  decodeAddress,
  familyFromNumber,
  familyNumber,
  maskToPrefix,
  prefixToMask,
  writeNormalizedAddress,
} from './address';
import { IpProto, SvcAttr, SvcFlag } from './constants';
import { InvalidFieldError } from './errors';
import { decodeStats } from './stats-codec';
import type { Protocol, Service, ServiceFlags } from './types';
import type { NormalizedServiceKey, NormalizedServiceSpec } from './validate';

const protoNumbers: Record<Protocol, number> = { tcp: IpProto.TCP, udp: IpProto.UDP, sctp: IpProto.SCTP };

const protoNames: Protocol[] = [];
for (const [name, num] of Object.entries(protoNumbers) as [Protocol, number][]) protoNames[num] = name;

export function protocolFromNumber(n: number): Protocol {
  const name = protoNames[n];
  if (name === undefined) throw new InvalidFieldError('service.protocol', n, 'unknown IP protocol number');
  return name;
}

/** ServiceFlags as the kernel's IP_VS_SVC_F_* bits. */
export function serviceFlagBits(flags: ServiceFlags | undefined): number {
  if (flags === undefined) return 0;
  if (flags === null || typeof flags !== 'object')
    throw new InvalidFieldError('service.flags', flags, 'expected an object');
  let bits = 0;
  if (flags.persistent) bits |= SvcFlag.PERSISTENT;
  if (flags.hashed) bits |= SvcFlag.HASHED;
  if (flags.onePacket) bits |= SvcFlag.ONEPACKET;
  if (flags.shFallback) bits |= SvcFlag.SCHED1;
  if (flags.shPort) bits |= SvcFlag.SCHED2;
  return bits;
}

/** The kernel's IP_VS_SVC_F_* bits as ServiceFlags. */
export function serviceFlagsFromBits(bits: number): Required<ServiceFlags> {
  return {
    persistent: (bits & SvcFlag.PERSISTENT) !== 0,
    hashed: (bits & SvcFlag.HASHED) !== 0,
    onePacket: (bits & SvcFlag.ONEPACKET) !== 0,
    shFallback: (bits & SvcFlag.SCHED1) !== 0,
    shPort: (bits & SvcFlag.SCHED2) !== 0,
  };
}

/** The identity of a service: what DEL_SERVICE, GET_SERVICE and the *_DEST commands need. */
export function writeServiceKey(w: NetlinkAttributeWriter, key: NormalizedServiceKey): void {
  w.u16(SvcAttr.AF, familyNumber(key.family));
  if (key.kind === 'fwmark') {
    w.u32(SvcAttr.FWMARK, key.fwmark);
  } else {
    w.u16(SvcAttr.PROTOCOL, protoNumbers[key.protocol]);
    // bytesView after reserving: the reservation may grow (replace) the buffer.
    const addrAt = w.reserveAttribute(SvcAttr.ADDR, 16);
    writeNormalizedAddress(w.bytesView, addrAt, key.address, key.family);
    w.be16(SvcAttr.PORT, key.port);
  }
}

/** A full service entry (NEW_SERVICE / SET_SERVICE): the kernel insists on every field. */
export function writeServiceSpec(w: NetlinkAttributeWriter, spec: NormalizedServiceSpec): void {
  writeServiceKey(w, spec.key);
  w.string(SvcAttr.SCHED_NAME, spec.scheduler);
  if (spec.persistenceEngine !== undefined) w.string(SvcAttr.PE_NAME, spec.persistenceEngine);
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(spec.flags >>> 0, 0);
  flags.writeUInt32LE(spec.flagsMask >>> 0, 4);
  w.bytes(SvcAttr.FLAGS, flags);
  w.u32(SvcAttr.TIMEOUT, spec.timeout);
  // IPv4: the mask itself, network byte order; IPv6: the prefix length as a plain u32.
  if (spec.key.family === 'ipv4') w.be32(SvcAttr.NETMASK, prefixToMask(spec.netmask));
  else w.u32(SvcAttr.NETMASK, spec.netmask);
}

/** Decodes the payload of a CmdAttr.SERVICE attribute as the kernel sends it. */
export function decodeService(buf: Buffer): Service {
  const t = attributeTable(buf, SvcAttr.STATS64, 'service');
  const af = readU16(t[SvcAttr.AF], 'service.af');
  if (af === undefined) throw new InvalidFieldError('service.af', undefined, 'missing from kernel reply');
  const family = familyFromNumber(af, 'service.af');
  const flagsRaw = t[SvcAttr.FLAGS];
  const flagBits = flagsRaw && flagsRaw.length >= 4 ? flagsRaw.readUInt32LE(0) : 0;
  const netmaskRaw =
    family === 'ipv4'
      ? readBe32(t[SvcAttr.NETMASK], 'service.netmask')
      : readU32(t[SvcAttr.NETMASK], 'service.netmask');
  const service: Service = {
    family,
    scheduler: readString(t[SvcAttr.SCHED_NAME]) ?? '',
    flags: serviceFlagsFromBits(flagBits),
    flagBits,
    timeout: readU32(t[SvcAttr.TIMEOUT], 'service.timeout') ?? 0,
    netmask: family === 'ipv4' ? maskToPrefix(netmaskRaw ?? 0xffffffff) : (netmaskRaw ?? 128),
  };
  const fwmark = readU32(t[SvcAttr.FWMARK], 'service.fwmark');
  if (fwmark) {
    service.fwmark = fwmark;
  } else {
    service.protocol = protocolFromNumber(readU16(t[SvcAttr.PROTOCOL], 'service.protocol') ?? 0);
    const addr = t[SvcAttr.ADDR];
    service.address = addr ? decodeAddress(addr, family) : family === 'ipv4' ? '0.0.0.0' : '::';
    service.port = readBe16(t[SvcAttr.PORT], 'service.port') ?? 0;
  }
  const pe = readString(t[SvcAttr.PE_NAME]);
  if (pe) service.persistenceEngine = pe;
  const stats = decodeStats(t[SvcAttr.STATS64], t[SvcAttr.STATS]);
  if (stats) service.stats = stats;
  return service;
}
