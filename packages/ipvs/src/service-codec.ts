import {
  decodeAddress,
  encodeAddress,
  familyFromNumber,
  familyNumber,
  maskToPrefix,
  prefixToMask,
} from './address';
import {
  type AttributeWriter,
  parseAttributes,
  readBe16,
  readBe32,
  readString,
  readU16,
  readU32,
} from './attributes';
import { IpProto, SvcAttr, SvcFlag } from './constants';
import { InvalidFieldError } from './errors';
import { decodeStats } from './stats-codec';
import type { Protocol, Service, ServiceFlags } from './types';
import type { NormalizedServiceKey, NormalizedServiceSpec } from './validate';

const protoNumbers: Record<Protocol, number> = { tcp: IpProto.TCP, udp: IpProto.UDP, sctp: IpProto.SCTP };

export function protocolFromNumber(n: number): Protocol {
  for (const [name, num] of Object.entries(protoNumbers)) if (num === n) return name as Protocol;
  throw new InvalidFieldError('service.protocol', n, 'unknown IP protocol number');
}

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
export function writeServiceKey(w: AttributeWriter, key: NormalizedServiceKey): void {
  w.u16(SvcAttr.AF, familyNumber(key.family));
  if (key.kind === 'fwmark') {
    w.u32(SvcAttr.FWMARK, key.fwmark);
  } else {
    w.u16(SvcAttr.PROTOCOL, protoNumbers[key.protocol]);
    w.raw(SvcAttr.ADDR, encodeAddress(key.address, 'service.address'));
    w.be16(SvcAttr.PORT, key.port);
  }
}

/** A full service entry (NEW_SERVICE / SET_SERVICE): the kernel insists on every field. */
export function writeServiceSpec(w: AttributeWriter, spec: NormalizedServiceSpec): void {
  writeServiceKey(w, spec.key);
  w.string(SvcAttr.SCHED_NAME, spec.scheduler);
  if (spec.persistenceEngine !== undefined) w.string(SvcAttr.PE_NAME, spec.persistenceEngine);
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(spec.flags >>> 0, 0);
  flags.writeUInt32LE(spec.flagsMask >>> 0, 4);
  w.raw(SvcAttr.FLAGS, flags);
  w.u32(SvcAttr.TIMEOUT, spec.timeout);
  // IPv4: the mask itself, network byte order; IPv6: the prefix length as a plain u32.
  if (spec.key.family === 'ipv4') w.be32(SvcAttr.NETMASK, prefixToMask(spec.netmask));
  else w.u32(SvcAttr.NETMASK, spec.netmask);
}

/** Decodes the payload of a CmdAttr.SERVICE attribute as the kernel sends it. */
export function decodeService(buf: Buffer): Service {
  const a = parseAttributes(buf, 'service');
  const af = readU16(a.get(SvcAttr.AF), 'service.af');
  if (af === undefined) throw new InvalidFieldError('service.af', undefined, 'missing from kernel reply');
  const family = familyFromNumber(af, 'service.af');
  const flagsRaw = a.get(SvcAttr.FLAGS);
  const flagBits = flagsRaw && flagsRaw.length >= 4 ? flagsRaw.readUInt32LE(0) : 0;
  const netmaskRaw =
    family === 'ipv4'
      ? readBe32(a.get(SvcAttr.NETMASK), 'service.netmask')
      : readU32(a.get(SvcAttr.NETMASK), 'service.netmask');
  const service: Service = {
    family,
    scheduler: readString(a.get(SvcAttr.SCHED_NAME)) ?? '',
    flags: serviceFlagsFromBits(flagBits),
    flagBits,
    timeout: readU32(a.get(SvcAttr.TIMEOUT), 'service.timeout') ?? 0,
    netmask: family === 'ipv4' ? maskToPrefix(netmaskRaw ?? 0xffffffff) : (netmaskRaw ?? 128),
  };
  const fwmark = readU32(a.get(SvcAttr.FWMARK), 'service.fwmark');
  if (fwmark) {
    service.fwmark = fwmark;
  } else {
    service.protocol = protocolFromNumber(readU16(a.get(SvcAttr.PROTOCOL), 'service.protocol') ?? 0);
    const addr = a.get(SvcAttr.ADDR);
    service.address = addr ? decodeAddress(addr, family) : family === 'ipv4' ? '0.0.0.0' : '::';
    service.port = readBe16(a.get(SvcAttr.PORT), 'service.port') ?? 0;
  }
  const pe = readString(a.get(SvcAttr.PE_NAME));
  if (pe) service.persistenceEngine = pe;
  const stats = decodeStats(a, SvcAttr.STATS64, SvcAttr.STATS);
  if (stats) service.stats = stats;
  return service;
}
