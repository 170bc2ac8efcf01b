// @nodeagent/ipvs/netlink: the wire level under Ipvs: the IPVS request builders and reply
// decoders, the service/destination/stats codecs, the transports and the kernel's constants. For
// tools and tests that speak IPVS netlink directly. The generic netlink attributes and headers
// are @nodeagent/primitives/netlink's; the writer and error the codecs' signatures use are
// re-exported here.
export { NetlinkAttributeWriter, NetlinkFormatError } from '@nodeagent/primitives/netlink';
export * as constants from '../constants';
export { decodeDestination, writeDestinationKey, writeDestinationSpec } from '../destination-codec';
export { InvalidFieldError } from '../errors';
export { loadNetlinkAddon } from '../netlink-addon';
export { NetlinkTransport } from '../netlink-transport';
export {
  decodeDestinationReply,
  decodeFamilyReply,
  decodeGenl,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from '../replies';
export { type GenlRequest, genlPayload, getFamilyRequest, requests } from '../requests';
export {
  decodeService,
  serviceFlagBits,
  serviceFlagsFromBits,
  writeServiceKey,
  writeServiceSpec,
} from '../service-codec';
export { decodeStats, decodeStats32, decodeStats64 } from '../stats-codec';
export { type BatchMessage, type GenlTransport, NetlinkErrnoError } from '../transport';
