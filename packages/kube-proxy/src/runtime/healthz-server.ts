import { createServer, type Server } from 'node:http';
import { formatGoTime } from './go-time';
import { closeServer, listen, splitHostPort } from './listen';
import type { ProxierHealth } from './proxier-health';

/** Options of HealthzServer. */
export interface HealthzServerOptions {
  /** "ip:port", upstream healthzBindAddress (default 0.0.0.0:10256). Port 0 picks a free port. */
  bindAddress: string;
  /** The proxier health and node eligibility the answers report. */
  health: ProxierHealth;
  /** Counts responses per path and status code (kubeproxy_proxy_healthz_total / _livez_total). */
  onResponse?: (path: '/healthz' | '/livez', code: number) => void;
}

/**
 * Serves /healthz (proxier healthy AND node eligible, for load balancers) and /livez
 * (proxier healthy only, for the kubelet's liveness probe), with upstream's JSON bodies.
 */
export class HealthzServer {
  private server: Server | undefined;
  address: { host: string; port: number } | undefined;

  constructor(private readonly opts: HealthzServerOptions) {}

  /**
   * Listens on the bind address; resolves with the bound address (the real port when 0 was
   * asked) and rejects on a listen error (EADDRINUSE).
   */
  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = splitHostPort(this.opts.bindAddress);
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/healthz' && path !== '/livez') {
        res.writeHead(404).end();
        return;
      }
      const status = this.opts.health.status();
      const nodeEligible = this.opts.health.isNodeEligible();
      const healthy = path === '/healthz' ? status.healthy && nodeEligible : status.healthy;
      // As upstream: a healthy server reports lastUpdated = now, for compatibility with
      // clients that treat an old lastUpdated as a failure.
      const lastUpdated = healthy ? status.currentTime : status.lastUpdated;
      const code = healthy ? 200 : 503;
      res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
      const base = `{"lastUpdated": ${JSON.stringify(formatGoTime(lastUpdated))},"currentTime": ${JSON.stringify(formatGoTime(status.currentTime))}`;
      res.end(path === '/healthz' ? `${base}, "nodeEligible": ${nodeEligible}}` : `${base}}`);
      this.opts.onResponse?.(path, code);
    });
    this.address = await listen(this.server, host, port);
    return this.address;
  }

  /** Stops listening and drops open connections; a no-op before start(). */
  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = undefined;
  }
}
