import {
  forEachAttribute,
  NetlinkFormatError,
  NLA_TYPE_MASK,
  readU16,
  readU32,
} from '@nodeagent/primitives/netlink';
import { CmdAttr, CtrlAttr, InfoAttr } from './constants';
import { decodeDestination } from './destination-codec';
import { decodeService } from './service-codec';
import type { AddressFamily, Destination, IpvsInfo, IpvsTimeouts, Service } from './types';

/** Splits a genl message payload (after the nlmsghdr) into its header and attributes. */
export function decodeGenl(payload: Buffer): { cmd: number; version: number; attrs: Map<number, Buffer> } {
  if (payload.length < 4)
    throw new NetlinkFormatError(
      'genl header',
      payload.length,
      'bytes is too short for struct genlmsghdr (4 bytes)',
    );
  const body = payload.subarray(4);
  // The last of a repeated type wins, as the kernel's nla_parse does.
  const attrs = new Map<number, Buffer>();
  forEachAttribute(
    body,
    (rawType, start, end) => attrs.set(rawType & NLA_TYPE_MASK, body.subarray(start, end)),
    'genl',
  );
  return { cmd: payload.readUInt8(0), version: payload.readUInt8(1), attrs };
}

function required(attrs: Map<number, Buffer>, type: number, field: string): Buffer {
  const v = attrs.get(type);
  if (!v) throw new NetlinkFormatError(field, undefined, 'missing from kernel reply');
  return v;
}

/** A service from an IPVS_CMD_NEW_SERVICE reply's attributes. */
export function decodeServiceReply(payload: Buffer): Service {
  return decodeService(required(decodeGenl(payload).attrs, CmdAttr.SERVICE, 'service'));
}

/** A destination from an IPVS_CMD_NEW_DEST reply's attributes. */
export function decodeDestinationReply(payload: Buffer, serviceFamily: AddressFamily): Destination {
  return decodeDestination(required(decodeGenl(payload).attrs, CmdAttr.DEST, 'destination'), serviceFamily);
}

/** Version and table size from an IPVS_CMD_GET_INFO reply. */
export function decodeInfoReply(payload: Buffer): IpvsInfo {
  const { attrs } = decodeGenl(payload);
  const code = readU32(attrs.get(InfoAttr.VERSION), 'info.version') ?? 0;
  return {
    version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
    versionCode: code,
    connectionTableSize: readU32(attrs.get(InfoAttr.CONN_TAB_SIZE), 'info.connectionTableSize') ?? 0,
  };
}

/** The timeouts from an IPVS_CMD_GET_CONFIG reply. */
export function decodeTimeoutsReply(payload: Buffer): IpvsTimeouts {
  const { attrs } = decodeGenl(payload);
  return {
    tcp: readU32(attrs.get(CmdAttr.TIMEOUT_TCP), 'timeouts.tcp') ?? 0,
    tcpFin: readU32(attrs.get(CmdAttr.TIMEOUT_TCP_FIN), 'timeouts.tcpFin') ?? 0,
    udp: readU32(attrs.get(CmdAttr.TIMEOUT_UDP), 'timeouts.udp') ?? 0,
  };
}

/** The family ID and version from a CTRL_CMD_GETFAMILY reply. */
export function decodeFamilyReply(payload: Buffer): { id: number; version: number } {
  const { attrs } = decodeGenl(payload);
  return {
    id: readU16(required(attrs, CtrlAttr.FAMILY_ID, 'family id'), 'family id') ?? 0,
    version: readU32(attrs.get(CtrlAttr.VERSION), 'family version') ?? 0,
  };
}
