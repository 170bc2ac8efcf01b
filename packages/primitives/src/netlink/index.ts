// @nodeagent/primitives/netlink: the netlink wire format every family shares (attributes, the
// message header, NLMSG_ERROR, errno names) and the lazy loader of the optional native `netlink`
// addon; the IPVS and nf_tables packages build their families on it.

// An address in network order, as netlink attributes (and X.509's iPAddress) carry it.
export { ipAddressBytes } from '../ip-address-bytes';
export { lazyNetlinkAddon, NETLINK_ADDON_HINT } from './addon';
export {
  attributesByType,
  attributeTable,
  forEachAttribute,
  type NetlinkAttribute,
  readAttributes,
} from './attribute-reader';
export {
  type AttributeField,
  type ReadResult,
  readBe16,
  readBe32,
  readBe64,
  readString,
  readU8,
  readU16,
  readU32,
  readU64,
} from './attribute-values';
export { NetlinkAttributeWriter, writeAttributeHeader } from './attribute-writer';
export {
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_HEADER_LENGTH,
  NLA_LENGTH_MAX,
  NLA_TYPE_MASK,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  nlaAlign,
} from './constants';
export { errnoName } from './errno';
export { isNetlinkFormatError, type NetlinkErrorClass, NetlinkFormatError } from './errors';
export {
  encodeNetlinkMessage,
  type NetlinkErrorReply,
  type NetlinkMessageHeader,
  type ReceivedNetlinkMessage,
  readNetlinkError,
  splitNetlinkMessages,
  writeNetlinkHeader,
} from './message';
