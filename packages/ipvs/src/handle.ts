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
  /** Creates a virtual service (IpvsAlreadyExistsError if it exists). */
  addService(spec: ServiceSpec): Promise<void>;
  /** Changes an existing service's scheduler, flags, timeout or netmask. */
  updateService(spec: ServiceSpec): Promise<void>;
  /** Deletes a service and its destinations. */
  deleteService(key: ServiceKey): Promise<void>;
  /** IpvsNotFoundError if there is no such service. */
  getService(key: ServiceKey): Promise<Service>;
  /** Whether the service is in the table. */
  serviceExists(key: ServiceKey): Promise<boolean>;
  /** Every service with its settings and counters. */
  listServices(): Promise<Service[]>;
  /** Adds a real server to a service. */
  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  /** Changes a real server's weight, forwarding method or thresholds. */
  updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  /** Removes a real server from a service. */
  deleteDestination(service: ServiceKey, dest: DestinationKey): Promise<void>;
  /** A service's real servers with their counters. */
  listDestinations(service: ServiceKey): Promise<Destination[]>;
  /** Zeroes one service's counters, or every service's. */
  zeroCounters(service?: ServiceKey): Promise<void>;
  /** Deletes every service and destination. */
  flush(): Promise<void>;
  /** The kernel's IPVS version and connection table size. */
  getInfo(): Promise<IpvsInfo>;
  /** The tcp, tcp-fin and udp timeouts, in seconds. */
  getTimeouts(): Promise<IpvsTimeouts>;
  /** Seconds; a field left out (or 0) stays as it is. */
  setTimeouts(timeouts: Partial<IpvsTimeouts>): Promise<void>;
  /** Closes the netlink socket; later calls fail. */
  close(): void;
}
