import type { Clock } from '@nodeagent/primitives';

/** One backend address the balancer hands out. */
export interface BalancerEndpoint {
  readonly ip: string;
  readonly port: number;
  /** "ip:port" ("[ip]:port" for IPv6); the identity of the endpoint. */
  readonly endpoint: string;
}

interface Affinity {
  endpoint: string;
  lastUsedMs: number;
}

/**
 * Round-robin choice of endpoints for one service port, with optional ClientIP session
 * affinity (upstream userspace LoadBalancerRR): a client that was given an endpoint within
 * the affinity timeout gets the same one again while it still exists.
 */
export class RoundRobinBalancer {
  private endpoints: readonly BalancerEndpoint[] = [];
  private next = 0;
  private readonly affinity = new Map<string, Affinity>();

  constructor(
    private readonly clock: Clock,
    /** 0 disables session affinity. */
    private stickyMaxAgeSeconds = 0,
  ) {}

  /**
   * Replaces the endpoint list. The rotation restarts only when the set changed, so a resync
   * with the same endpoints keeps its place; affinity to endpoints that left is dropped.
   */
  setEndpoints(endpoints: readonly BalancerEndpoint[], stickyMaxAgeSeconds = this.stickyMaxAgeSeconds): void {
    if (stickyMaxAgeSeconds !== this.stickyMaxAgeSeconds) {
      this.stickyMaxAgeSeconds = stickyMaxAgeSeconds;
      this.affinity.clear();
    }
    const before = this.endpoints.map((e) => e.endpoint).join(',');
    const after = endpoints.map((e) => e.endpoint).join(',');
    this.endpoints = [...endpoints];
    if (before === after) return;
    this.next = 0;
    const present = new Set(this.endpoints.map((e) => e.endpoint));
    for (const [client, a] of this.affinity) if (!present.has(a.endpoint)) this.affinity.delete(client);
  }

  /** How many endpoints the balancer picks from. */
  size(): number {
    return this.endpoints.length;
  }

  /** Whether `endpoint` ("ip:port") is one of them. */
  has(endpoint: string): boolean {
    return this.endpoints.some((e) => e.endpoint === endpoint);
  }

  /**
   * The endpoint for a new connection from `clientIP`, skipping `exclude` (endpoints that
   * already refused this connection). Undefined when nothing is left to try.
   */
  pick(clientIP: string, exclude: ReadonlySet<string> = new Set()): BalancerEndpoint | undefined {
    const candidates = this.endpoints.filter((e) => !exclude.has(e.endpoint));
    if (candidates.length === 0) return undefined;
    const now = this.clock.now();
    if (this.stickyMaxAgeSeconds > 0) {
      const a = this.affinity.get(clientIP);
      if (a && now - a.lastUsedMs < this.stickyMaxAgeSeconds * 1000) {
        const ep = candidates.find((e) => e.endpoint === a.endpoint);
        if (ep) {
          a.lastUsedMs = now;
          return ep;
        }
      }
    }
    // Walk the full list from the cursor so skipping refused endpoints keeps the rotation fair.
    let chosen: BalancerEndpoint | undefined;
    for (let i = 0; i < this.endpoints.length; i++) {
      const ep = this.endpoints[(this.next + i) % this.endpoints.length]!;
      if (exclude.has(ep.endpoint)) continue;
      chosen = ep;
      this.next = (this.next + i + 1) % this.endpoints.length;
      break;
    }
    if (chosen && this.stickyMaxAgeSeconds > 0) {
      this.affinity.set(clientIP, { endpoint: chosen.endpoint, lastUsedMs: now });
    }
    return chosen;
  }

  /** Forgets a client's affinity (its chosen endpoint refused or failed). */
  dropAffinity(clientIP: string): void {
    this.affinity.delete(clientIP);
  }

  /** Drops affinity records older than the timeout; called on each sync to bound memory. */
  expireAffinity(): void {
    if (this.stickyMaxAgeSeconds === 0) return;
    const now = this.clock.now();
    for (const [client, a] of this.affinity)
      if (now - a.lastUsedMs >= this.stickyMaxAgeSeconds * 1000) this.affinity.delete(client);
  }
}
