import { NetlinkAttributeWriter } from '@nodeagent/primitives/netlink';
import { CmdAttr, CtrlAttr, CtrlCommand, IPVS_GENL_VERSION, IpvsCommand, NlmFlag } from './constants';
import { writeDestinationKey, writeDestinationSpec } from './destination-codec';
import { writeServiceKey, writeServiceSpec } from './service-codec';
import type { IpvsTimeouts } from './types';
import type {
  NormalizedDestinationKey,
  NormalizedDestinationSpec,
  NormalizedServiceKey,
  NormalizedServiceSpec,
} from './validate';

/**
 * One generic netlink request, minus the nlmsghdr (which the socket adds with its own sequence
 * number and port): the genl header (cmd, version, reserved) followed by attributes.
 */
export interface GenlRequest {
  cmd: number;
  /** Extra nlmsg flags on top of REQUEST|ACK; NlmFlag.DUMP for dumps. */
  flags: number;
  payload: Buffer;
}

/** A generic netlink message body: the genl header, then the attributes. */
export function genlPayload(cmd: number, version: number, attrs: Buffer): Buffer {
  const out = Buffer.alloc(4 + attrs.length);
  out.writeUInt8(cmd, 0);
  out.writeUInt8(version, 1);
  out.set(attrs, 4);
  return out;
}

function ipvs(cmd: number, build?: (w: NetlinkAttributeWriter) => void, flags = 0): GenlRequest {
  // Header and attributes in one buffer: this runs once per request in bulk updates.
  const w = new NetlinkAttributeWriter(256).fixedHeader(4, (b, at) => {
    b.writeUInt8(cmd, at);
    b.writeUInt8(IPVS_GENL_VERSION, at + 1);
  });
  build?.(w);
  return { cmd, flags, payload: w.toBuffer() };
}

const svc = (key: NormalizedServiceKey) => (w: NetlinkAttributeWriter) => {
  w.nested(CmdAttr.SERVICE, (s) => writeServiceKey(s, key));
};

/** The body of each IPVS request, by command. */
export const requests = {
  /** Create a service. */
  newService: (spec: NormalizedServiceSpec) =>
    ipvs(IpvsCommand.NEW_SERVICE, (w) => w.nested(CmdAttr.SERVICE, (s) => writeServiceSpec(s, spec))),
  /** Update a service. */
  setService: (spec: NormalizedServiceSpec) =>
    ipvs(IpvsCommand.SET_SERVICE, (w) => w.nested(CmdAttr.SERVICE, (s) => writeServiceSpec(s, spec))),
  /** Delete a service. */
  delService: (key: NormalizedServiceKey) => ipvs(IpvsCommand.DEL_SERVICE, svc(key)),
  /** Read one service. */
  getService: (key: NormalizedServiceKey) => ipvs(IpvsCommand.GET_SERVICE, svc(key)),
  /** List every service. */
  dumpServices: () => ipvs(IpvsCommand.GET_SERVICE, undefined, NlmFlag.DUMP),
  /** Add a destination. */
  newDest: (key: NormalizedServiceKey, dest: NormalizedDestinationSpec) =>
    ipvs(IpvsCommand.NEW_DEST, (w) => {
      svc(key)(w);
      w.nested(CmdAttr.DEST, (d) => writeDestinationSpec(d, dest));
    }),
  /** Update a destination. */
  setDest: (key: NormalizedServiceKey, dest: NormalizedDestinationSpec) =>
    ipvs(IpvsCommand.SET_DEST, (w) => {
      svc(key)(w);
      w.nested(CmdAttr.DEST, (d) => writeDestinationSpec(d, dest));
    }),
  /** Remove a destination. */
  delDest: (key: NormalizedServiceKey, dest: NormalizedDestinationKey) =>
    ipvs(IpvsCommand.DEL_DEST, (w) => {
      svc(key)(w);
      w.nested(CmdAttr.DEST, (d) => writeDestinationKey(d, dest));
    }),
  /** List a service's destinations. */
  dumpDests: (key: NormalizedServiceKey) => ipvs(IpvsCommand.GET_DEST, svc(key), NlmFlag.DUMP),
  /** Read the IPVS version and table size. */
  getInfo: () => ipvs(IpvsCommand.GET_INFO),
  /** Read the timeouts. */
  getConfig: () => ipvs(IpvsCommand.GET_CONFIG),
  /** Set the timeouts. */
  setConfig: (t: IpvsTimeouts) =>
    ipvs(IpvsCommand.SET_CONFIG, (w) => {
      w.u32(CmdAttr.TIMEOUT_TCP, t.tcp);
      w.u32(CmdAttr.TIMEOUT_TCP_FIN, t.tcpFin);
      w.u32(CmdAttr.TIMEOUT_UDP, t.udp);
    }),
  /** Without a key: every service and destination. */
  /** Zero one service's counters, or all. */
  zero: (key?: NormalizedServiceKey) => ipvs(IpvsCommand.ZERO, key ? svc(key) : undefined),
  /** Delete every service. */
  flush: () => ipvs(IpvsCommand.FLUSH),
};

/** CTRL_CMD_GETFAMILY by name, sent to the generic netlink controller. */
export function getFamilyRequest(name: string): GenlRequest {
  const w = new NetlinkAttributeWriter().string(CtrlAttr.FAMILY_NAME, name);
  return {
    cmd: CtrlCommand.GETFAMILY,
    flags: 0,
    payload: genlPayload(CtrlCommand.GETFAMILY, 1, w.toBuffer()),
  };
}
