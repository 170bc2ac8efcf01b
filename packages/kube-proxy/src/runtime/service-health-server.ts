import { createServer, type Server } from 'node:http';
import { closeServer, listen } from './listen';

interface ServiceHealth {
  port: number;
  localEndpoints: number;
  servers: Server[];
}

/** Options of ServiceHealthServer. */
export interface ServiceHealthServerOptions {
  /** Addresses to listen on for every health-check node port (from nodePortAddresses); default all. */
  bindAddresses?: readonly string[];
  /** Whether the proxier itself is healthy; a sick proxier fails every service's check. */
  proxierHealthy?: () => boolean;
  /** Reports a listener that could not be opened (the service still gets a 503-free retry next sync). */
  onListenError?: (service: string, port: number, err: Error) => void;
}

/**
 * The per-Service health-check node port servers for externalTrafficPolicy=Local: cloud load
 * balancers probe them and only send traffic to nodes answering 200, i.e. nodes with local endpoints.
 */
export class ServiceHealthServer {
  private readonly services = new Map<string, ServiceHealth>();
  /**
   * Each IP family's last sets (a dual-stack kube-proxy's two proxiers share the server): one
   * family's sync must not close the listener of a Service only the other family has.
   */
  private readonly portsByFamily = new Map<string, ReadonlyMap<string, number>>();
  private readonly countsByFamily = new Map<string, ReadonlyMap<string, number>>();

  constructor(private readonly opts: ServiceHealthServerOptions = {}) {}

  /**
   * Sets the full set of "ns/name" → health-check node port of one IP family (one family's
   * proxier: leave `family` out); opens and closes listeners to match every family's sets.
   */
  async syncServices(familyPorts: ReadonlyMap<string, number>, family = ''): Promise<void> {
    this.portsByFamily.set(family, familyPorts);
    const ports = new Map<string, number>();
    for (const sets of this.portsByFamily.values())
      for (const [name, port] of sets) if (!ports.has(name)) ports.set(name, port);
    for (const [name, sh] of [...this.services]) {
      if (ports.get(name) === sh.port) continue;
      this.services.delete(name);
      await Promise.all(sh.servers.map(closeServer));
    }
    for (const [name, port] of ports) {
      if (this.services.has(name) || port <= 0) continue;
      const sh: ServiceHealth = { port, localEndpoints: 0, servers: [] };
      this.services.set(name, sh);
      for (const host of this.opts.bindAddresses ?? ['']) {
        const server = createServer((_req, res) => this.respond(name, res));
        try {
          await listen(server, host, port);
          sh.servers.push(server);
        } catch (err) {
          this.opts.onListenError?.(name, port, err as Error);
        }
      }
    }
  }

  /**
   * Sets one IP family's local endpoint counts per "ns/name" (leave `family` out for one family);
   * a Service answers with the larger of its families' counts, absent from every map it has 0.
   */
  syncEndpoints(familyCounts: ReadonlyMap<string, number>, family = ''): void {
    this.countsByFamily.set(family, familyCounts);
    for (const [name, sh] of this.services) {
      let count = 0;
      for (const counts of this.countsByFamily.values()) count = Math.max(count, counts.get(name) ?? 0);
      sh.localEndpoints = count;
    }
  }

  /** Ports currently served, per "ns/name". */
  served(): Map<string, number> {
    return new Map([...this.services].map(([n, s]) => [n, s.port]));
  }

  /** Closes every health-check listener and forgets the services; syncServices opens them again. */
  async close(): Promise<void> {
    const all = [...this.services.values()].flatMap((s) => s.servers);
    this.services.clear();
    this.portsByFamily.clear();
    this.countsByFamily.clear();
    await Promise.all(all.map(closeServer));
  }

  private respond(name: string, res: import('node:http').ServerResponse): void {
    const sh = this.services.get(name);
    if (!sh) {
      res.writeHead(503).end();
      return;
    }
    const healthy = this.opts.proxierHealthy?.() ?? true;
    const count = sh.localEndpoints;
    res.writeHead(count !== 0 && healthy ? 200 : 503, {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      'X-Load-Balancing-Endpoint-Weight': String(count),
    });
    const [namespace, svcName] = name.split('/');
    res.end(
      JSON.stringify(
        { service: { namespace, name: svcName }, localEndpoints: count, serviceProxyHealthy: healthy },
        null,
        '\t',
      ),
    );
  }
}
