import { Counter, Gauge, type Registry } from 'prom-client';

/** The reasons connectionErrorsTotal counts by. */
const CONNECTION_ERROR_REASONS = ['no_endpoints', 'limit', 'dial'] as const;

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

  /**
   * A service port that is gone, once its last connection closed: its series go (a Service
   * re-created under the name starts at 0), so Services coming and going do not grow the scrape.
   */
  forgetServicePort(servicePort: string, protocol: 'TCP' | 'UDP'): void {
    const labels = { service_port: servicePort, protocol };
    this.connectionsTotal.remove(labels);
    this.activeConnections.remove(labels);
    for (const reason of CONNECTION_ERROR_REASONS) this.connectionErrorsTotal.remove({ ...labels, reason });
  }
}
