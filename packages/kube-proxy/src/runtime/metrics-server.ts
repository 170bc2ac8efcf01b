import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen, splitHostPort } from './listen';
import type { KubeProxyMetrics } from './metrics';

/** Serves /metrics (Prometheus text) and /healthz ("ok") on metricsBindAddress, as upstream. */
export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly bindAddress: string,
    private readonly metrics: KubeProxyMetrics,
    private readonly proxyMode: string,
    /** enableProfiling: serves /debug/pprof/ (runtime/profiling.ts) before the 404. */
    private readonly extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean,
  ) {}

  /**
   * Listens on the bind address and also serves /proxyMode (the mode's name, as upstream).
   * Resolves with the bound address; rejects on a listen error (EADDRINUSE).
   */
  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = splitHostPort(this.bindAddress);
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        this.metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body),
          (err: Error) => res.writeHead(500).end(err.message),
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      } else if (path === '/proxyMode') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(this.proxyMode);
      } else if (!this.extraRoutes?.(req, res)) {
        res.writeHead(404).end();
      }
    });
    return listen(this.server, host, port);
  }

  /** Stops listening and drops open connections; a no-op before start(). */
  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = undefined;
  }
}
