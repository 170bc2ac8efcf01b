// Public surface of @nodeagent/ipvs: Ipvs (services, destinations, timeouts over generic netlink),
// its errors, the netns relay and the model. The wire level (codecs, requests, replies, transports,
// constants, InvalidFieldError) is at `@nodeagent/ipvs/netlink`.
export {
  IpvsAlreadyExistsError,
  IpvsClosedError,
  IpvsError,
  IpvsKernelError,
  IpvsNotFoundError,
  IpvsUnavailableError,
  isIpvsAlreadyExistsError,
  isIpvsKernelError,
  isIpvsNotFoundError,
  isIpvsUnavailableError,
} from './errors';
export type { IpvsHandle } from './handle';
export { Ipvs, kernelError, type OpenIpvsOptions, openIpvs } from './ipvs';
export {
  NetnsRelayError,
  NetnsRelayMissingError,
  NetnsTransport,
  type NetnsTransportOptions,
  resolveRelayPath,
} from './netns-transport';
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
