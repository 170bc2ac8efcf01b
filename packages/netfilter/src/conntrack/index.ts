// The conntrack table over ctnetlink: dump a family's entries and delete entries by tuple.
export {
  type ConntrackFamily,
  type ConntrackFlow,
  type ConntrackTuple,
  decodeConntrackEntry,
  encodeConntrackDelete,
  encodeConntrackDump,
  IPPROTO_UDP,
} from './codec';
export { ConntrackNetlink, ConntrackNetlinkError } from './conntrack-netlink';
