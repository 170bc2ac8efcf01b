import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Per-service connection counters of the userspace proxy. Upstream's userspace mode had none;
 * the names follow the kubeproxy_ prefix of the other metrics so one scrape covers both.
 */
export class UserspaceMetrics {
  /** Connections (TCP) and sessions (UDP) accepted, by service port and protocol. */
  readonly connectionsTotal: Counter<'service_port' | 'protocol'>;
  /** Connections currently open through the proxy. */
  readonly activeConnections: Gauge<'service_port' | 'protocol'>;
  /**
   * Connections refused by the proxy, by reason: no_endpoints, limit (the per-service limit was
   * reached), dial (every endpoint tried refused or timed out).
   */
  readonly connectionErrorsTotal: Counter<'service_port' | 'protocol' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connectionsTotal = new Counter({
      name: 'kubeproxy_userspace_connections_total',
      help: 'Connections (TCP) and sessions (UDP) accepted by the userspace proxy',
      labelNames: ['service_port', 'protocol'],
      registers,
    });
    this.activeConnections = new Gauge({
      name: 'kubeproxy_userspace_active_connections',
      help: 'Connections and sessions currently open through the userspace proxy',
      labelNames: ['service_port', 'protocol'],
      registers,
    });
    this.connectionErrorsTotal = new Counter({
      name: 'kubeproxy_userspace_connection_errors_total',
      help: 'Connections the userspace proxy could not forward, by reason',
      labelNames: ['service_port', 'protocol', 'reason'],
      registers,
    });
  }
}
