// Public surface of @nodeagent/ipvs.
export { AttributeWriter, MalformedAttributeError, parseAttributes, parseAttributeTable } from './attributes';
export * as constants from './constants';
export { decodeDestination, writeDestinationKey, writeDestinationSpec } from './destination-codec';
export {
  InvalidFieldError,
  IpvsAlreadyExistsError,
  IpvsClosedError,
  IpvsError,
  IpvsKernelError,
  IpvsNotFoundError,
  IpvsUnavailableError,
} from './errors';
export { Ipvs, kernelError, type OpenIpvsOptions, openIpvs } from './ipvs';
export { encodeNetlinkMessage, NLMSG_HDRLEN } from './netlink-header';
export { NetlinkTransport } from './netlink-transport';
export {
  NetnsRelayError,
  NetnsRelayMissingError,
  NetnsTransport,
  type NetnsTransportOptions,
  resolveRelayPath,
} from './netns-transport';
export {
  decodeDestinationReply,
  decodeFamilyReply,
  decodeGenl,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from './replies';
export { type GenlRequest, genlPayload, getFamilyRequest, requests } from './requests';
export {
  decodeService,
  serviceFlagBits,
  serviceFlagsFromBits,
  writeServiceKey,
  writeServiceSpec,
} from './service-codec';
export { decodeStats, decodeStats32, decodeStats64 } from './stats-codec';
export { type BatchMessage, type GenlTransport, NetlinkErrnoError } from './transport';
export type {
  AddressFamily,
  Destination,
  DestinationKey,
  DestinationSpec,
  ForwardingMethod,
  IpvsInfo,
  IpvsTimeouts,
  Protocol,
  Scheduler,
  Service,
  ServiceFlags,
  ServiceKey,
  ServiceSpec,
  Stats,
  TunnelType,
} from './types';
export { schedulers } from './types';
export {
  type NormalizedDestinationKey,
  type NormalizedDestinationSpec,
  type NormalizedServiceKey,
  type NormalizedServiceSpec,
  normalizeDestinationKey,
  normalizeDestinationSpec,
  normalizeServiceKey,
  normalizeServiceSpec,
} from './validate';
