import type {
  Destination,
  DestinationKey,
  DestinationSpec,
  IpvsInfo,
  IpvsTimeouts,
  Service,
  ServiceKey,
  ServiceSpec,
} from './types';

/**
 * What callers use of an IPVS table: Ipvs (the kernel over generic netlink) and FakeIpvsHandle
 * (`@nodeagent/ipvs/testing`, in memory) both implement it, so code can be tested without root or
 * the ip_vs module.
 */
export interface IpvsHandle {
  addService(spec: ServiceSpec): Promise<void>;
  updateService(spec: ServiceSpec): Promise<void>;
  deleteService(key: ServiceKey): Promise<void>;
  /** IpvsNotFoundError if there is no such service. */
  getService(key: ServiceKey): Promise<Service>;
  serviceExists(key: ServiceKey): Promise<boolean>;
  listServices(): Promise<Service[]>;
  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  deleteDestination(service: ServiceKey, dest: DestinationKey): Promise<void>;
  listDestinations(service: ServiceKey): Promise<Destination[]>;
  zeroCounters(service?: ServiceKey): Promise<void>;
  /** Deletes every service and destination. */
  flush(): Promise<void>;
  getInfo(): Promise<IpvsInfo>;
  getTimeouts(): Promise<IpvsTimeouts>;
  /** Seconds; a field left out (or 0) stays as it is. */
  setTimeouts(timeouts: Partial<IpvsTimeouts>): Promise<void>;
  close(): void;
}
