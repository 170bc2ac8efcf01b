/** A virtual service's transport protocol. */
export type Protocol = 'tcp' | 'udp' | 'sctp';
/** An address family. */
export type AddressFamily = 'ipv4' | 'ipv6';

/** Schedulers the Linux kernel ships (ip_vs_<name>.ko). */
export const schedulers = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'mh',
  'fo',
  'ovf',
] as const;
/** An IPVS scheduler name. */
export type Scheduler = (typeof schedulers)[number];

/** How a real server is reached; names as Kubernetes/ipvsadm say them. */
export type ForwardingMethod = 'masquerade' | 'local' | 'tunnel' | 'direct-route';
/** The encapsulation of a tunnel-mode destination. */
export type TunnelType = 'ipip' | 'gue' | 'gre';

/**
 * A virtual service is identified either by protocol + address + port or by firewall mark
 * (+ address family).
 */
export type ServiceKey =
  | { protocol: Protocol; address: string; port: number; fwmark?: undefined; family?: AddressFamily }
  | { fwmark: number; family?: AddressFamily; protocol?: undefined; address?: undefined; port?: undefined };

/** A service's flags, by name. */
export interface ServiceFlags {
  persistent?: boolean;
  /** Set by the kernel on every service in its table; read-only in practice. */
  hashed?: boolean;
  onePacket?: boolean;
  /** sh/mh: fall back to another server when the chosen one is unavailable (IP_VS_SVC_F_SCHED1). */
  shFallback?: boolean;
  /** sh/mh: hash the source port too (IP_VS_SVC_F_SCHED2). */
  shPort?: boolean;
}

/** A service to create or update: its key, scheduler and settings. */
export type ServiceSpec = ServiceKey & {
  scheduler: Scheduler;
  flags?: ServiceFlags;
  /**
   * Which flag bits this request sets (the kernel keeps the others on update). Default: every
   * known flag, i.e. `flags` replaces the service's flags.
   */
  flagsMask?: number;
  /** Persistence timeout in seconds. Default 300 when `flags.persistent`, else 0. */
  timeout?: number;
  /** Persistence netmask as a prefix length. Default 32 (IPv4) / 128 (IPv6). */
  netmask?: number;
  /** Persistence engine name (e.g. `sip`). */
  persistenceEngine?: string;
};

/** 64-bit counters and rates, as the kernel's STATS64 reports them. */
export interface Stats {
  connections: bigint;
  packetsIn: bigint;
  packetsOut: bigint;
  bytesIn: bigint;
  bytesOut: bigint;
  cps: bigint;
  ppsIn: bigint;
  ppsOut: bigint;
  bpsIn: bigint;
  bpsOut: bigint;
}

/** A service as the kernel reports it, with counters. */
export interface Service {
  family: AddressFamily;
  protocol?: Protocol;
  address?: string;
  port?: number;
  fwmark?: number;
  scheduler: string;
  flags: Required<ServiceFlags>;
  /** Raw IP_VS_SVC_F_* bits. */
  flagBits: number;
  timeout: number;
  netmask: number;
  persistenceEngine?: string;
  stats?: Stats;
}

/** What identifies a real server within a service: address and port. */
export interface DestinationKey {
  address: string;
  port: number;
}

/** A real server to add or update: weight, forwarding method and thresholds. */
export interface DestinationSpec extends DestinationKey {
  /** Default masquerade. */
  forwarding?: ForwardingMethod;
  /** Default 1. */
  weight?: number;
  /** Connection limits; 0 = none. */
  upperThreshold?: number;
  lowerThreshold?: number;
  /** Family of the real server when it differs from the service's (tunnel/direct-route only). */
  family?: AddressFamily;
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelFlags?: { checksum?: boolean; remoteChecksum?: boolean };
}

/** A real server as the kernel reports it, with counters. */
export interface Destination {
  address: string;
  port: number;
  family: AddressFamily;
  forwarding: ForwardingMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConnections: number;
  inactiveConnections: number;
  persistentConnections: number;
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelFlags?: { checksum: boolean; remoteChecksum: boolean };
  stats?: Stats;
}

/** The kernel's IPVS version and connection table size. */
export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  versionCode: number;
  connectionTableSize: number;
}

/** Connection timeouts in seconds (0 in a set request = leave unchanged). */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}
