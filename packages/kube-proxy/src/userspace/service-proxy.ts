import type { Clock } from '@nodeagent/primitives';
import type { Protocol } from '../model/service-port';
import type { ProxyLogger } from '../runtime/proxy-logger';
import type { RoundRobinBalancer } from './round-robin-balancer';
import type { UserspaceMetrics } from './userspace-metrics';

/** Where one listener of a service port accepts traffic. Port 0 picks a free port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Settings shared by the TCP and UDP proxies of one service port. */
export interface ServiceProxyOptions {
  /** servicePortKey of the service port, used in logs, metrics and errors. */
  readonly servicePort: string;
  readonly balancer: RoundRobinBalancer;
  readonly clock: Clock;
  readonly logger: ProxyLogger;
  readonly metrics?: UserspaceMetrics;
  /** Connections (TCP) or sessions (UDP) open at once; 0 means unlimited. */
  readonly maxConnections: number;
  /**
   * Dial timeout of each attempt to reach an endpoint (TCP); its length bounds how many
   * attempts one connection makes before giving up (upstream: 250ms, 500ms, 1s, 2s).
   */
  readonly dialTimeoutsMs: readonly number[];
  /** A UDP session without traffic in either direction for this long is closed. */
  readonly udpIdleTimeoutMs: number;
}

/** The L4 proxy of one service port: one or more listeners sharing one balancer. */
export interface ServiceProxy {
  readonly protocol: Protocol;
  readonly servicePort: string;
  /** Opens all listeners; rejects with ListenError (and closes any it opened) if one fails. */
  listen(addresses: readonly ListenAddress[]): Promise<void>;
  /** The ports actually bound, in the order of `listen`'s addresses. */
  boundPorts(): readonly number[];
  /** Connections (TCP) or sessions (UDP) currently open. */
  activeConnections(): number;
  /** Stops accepting; open connections continue until they finish (draining). */
  stopListening(): Promise<void>;
  /** Stops accepting and tears down every open connection. */
  destroy(): Promise<void>;
}
