import {
  attributeTable,
  type NetlinkAttributeWriter,
  readBe16,
  readU8,
  readU16,
  readU32,
} from '@nodeagent/primitives/netlink';
import { decodeAddress, familyFromNumber, familyNumber, writeNormalizedAddress } from './address';
import { DestAttr, FWD_MASK, FwdMethod, TunnelFlag, TunnelType as TunnelTypeNumber } from './constants';
import { InvalidFieldError } from './errors';
import { decodeStats } from './stats-codec';
import type { AddressFamily, Destination, ForwardingMethod, TunnelType } from './types';
import type { NormalizedDestinationKey, NormalizedDestinationSpec } from './validate';

const fwdNumbers: Record<ForwardingMethod, number> = {
  masquerade: FwdMethod.MASQ,
  local: FwdMethod.LOCALNODE,
  tunnel: FwdMethod.TUNNEL,
  'direct-route': FwdMethod.DROUTE,
};
const tunnelNumbers: Record<TunnelType, number> = {
  ipip: TunnelTypeNumber.IPIP,
  gue: TunnelTypeNumber.GUE,
  gre: TunnelTypeNumber.GRE,
};

/** Inverts a name → number table once, so decoding is an array lookup. */
function inverse<K extends string>(table: Record<K, number>): K[] {
  const out: K[] = [];
  for (const [name, num] of Object.entries(table) as [K, number][]) out[num] = name;
  return out;
}
const fwdNames = inverse(fwdNumbers);
const tunnelNames = inverse(tunnelNumbers);

function lookup<K extends string>(names: K[], n: number, field: string): K {
  const name = names[n];
  if (name === undefined) throw new InvalidFieldError(field, n, 'unknown value from kernel');
  return name;
}

/** Address + port (+ family): what DEL_DEST needs. */
export function writeDestinationKey(w: NetlinkAttributeWriter, dest: NormalizedDestinationKey): void {
  // bytesView after reserving: the reservation may grow (replace) the buffer.
  const addrAt = w.reserveAttribute(DestAttr.ADDR, 16);
  writeNormalizedAddress(w.bytesView, addrAt, dest.address, dest.family);
  w.u16(DestAttr.ADDR_FAMILY, familyNumber(dest.family));
  w.be16(DestAttr.PORT, dest.port);
}

/** A full destination entry (NEW_DEST / SET_DEST). */
export function writeDestinationSpec(w: NetlinkAttributeWriter, dest: NormalizedDestinationSpec): void {
  writeDestinationKey(w, dest);
  w.u32(DestAttr.FWD_METHOD, fwdNumbers[dest.forwarding]);
  w.u32(DestAttr.WEIGHT, dest.weight);
  if (dest.tunnelType !== undefined) {
    w.u8(DestAttr.TUN_TYPE, tunnelNumbers[dest.tunnelType]);
    w.be16(DestAttr.TUN_PORT, dest.tunnelPort ?? 0);
    let flags: number = TunnelFlag.NOCSUM;
    if (dest.tunnelFlags?.checksum) flags |= TunnelFlag.CSUM;
    if (dest.tunnelFlags?.remoteChecksum) flags |= TunnelFlag.REMCSUM;
    w.u16(DestAttr.TUN_FLAGS, flags);
  }
  w.u32(DestAttr.U_THRESH, dest.upperThreshold);
  w.u32(DestAttr.L_THRESH, dest.lowerThreshold);
}

/** Decodes a CmdAttr.DEST payload. `serviceFamily` is used when the kernel omits ADDR_FAMILY. */
export function decodeDestination(buf: Buffer, serviceFamily: AddressFamily): Destination {
  const t = attributeTable(buf, DestAttr.TUN_FLAGS, 'destination');
  const af = readU16(t[DestAttr.ADDR_FAMILY], 'destination.family');
  const family = af === undefined ? serviceFamily : familyFromNumber(af, 'destination.family');
  const addr = t[DestAttr.ADDR];
  const dest: Destination = {
    address: addr ? decodeAddress(addr, family) : family === 'ipv4' ? '0.0.0.0' : '::',
    port: readBe16(t[DestAttr.PORT], 'destination.port') ?? 0,
    family,
    forwarding: lookup(
      fwdNames,
      (readU32(t[DestAttr.FWD_METHOD], 'destination.forwarding') ?? 0) & FWD_MASK,
      'destination.forwarding',
    ),
    weight: readU32(t[DestAttr.WEIGHT], 'destination.weight') ?? 0,
    upperThreshold: readU32(t[DestAttr.U_THRESH], 'destination.upperThreshold') ?? 0,
    lowerThreshold: readU32(t[DestAttr.L_THRESH], 'destination.lowerThreshold') ?? 0,
    activeConnections: readU32(t[DestAttr.ACTIVE_CONNS], 'destination.activeConnections') ?? 0,
    inactiveConnections: readU32(t[DestAttr.INACT_CONNS], 'destination.inactiveConnections') ?? 0,
    persistentConnections: readU32(t[DestAttr.PERSIST_CONNS], 'destination.persistentConnections') ?? 0,
  };
  if (dest.forwarding === 'tunnel') {
    const tt = readU8(t[DestAttr.TUN_TYPE], 'destination.tunnelType');
    if (tt !== undefined) dest.tunnelType = lookup(tunnelNames, tt, 'destination.tunnelType');
    const tp = readBe16(t[DestAttr.TUN_PORT], 'destination.tunnelPort');
    if (tp !== undefined) dest.tunnelPort = tp;
    const tf = readU16(t[DestAttr.TUN_FLAGS], 'destination.tunnelFlags');
    if (tf !== undefined)
      dest.tunnelFlags = {
        checksum: (tf & TunnelFlag.CSUM) !== 0,
        remoteChecksum: (tf & TunnelFlag.REMCSUM) !== 0,
      };
  }
  const stats = decodeStats(t[DestAttr.STATS64], t[DestAttr.STATS]);
  if (stats) dest.stats = stats;
  return dest;
}
