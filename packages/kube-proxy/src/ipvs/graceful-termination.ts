import { isIpvsNotFoundError, type ServiceKey } from '@nodeagent/ipvs';
import type { IpvsTable } from './ipvs-kernel';
import { realServerKey } from './virtual-server-key';

/** A real server taken out of rotation (weight 0) and waiting for its connections to drain. */
export interface TerminatingRealServer {
  readonly virtualServer: string;
  readonly service: ServiceKey;
  readonly address: string;
  readonly port: number;
  /** When it was set to weight 0 (clock ms). */
  readonly since: number;
}

/** Options of GracefulTermination. */
export interface GracefulTerminationOptions {
  /** Delete a draining real server after this long even if connections remain. Default 10 min. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

const id = (vs: string, rs: string) => `${vs}/${rs}`;

/**
 * Upstream's graceful termination: a removed TCP/SCTP real server first gets weight 0 (no new
 * connections), and is deleted once its active and inactive connection counts reach zero.
 * Unlike upstream we also give up after a timeout, so a stuck connection cannot pin it forever.
 */
export class GracefulTermination {
  private readonly pending = new Map<string, TerminatingRealServer>();
  private readonly timeoutMs: number;

  constructor(options: GracefulTerminationOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** How many real servers are draining. */
  get size(): number {
    return this.pending.size;
  }

  /** The draining real servers, in the order they started draining. */
  list(): TerminatingRealServer[] {
    return [...this.pending.values()];
  }

  /** Whether this real server (a realServerKey) of this virtual server is draining. */
  has(virtualServer: string, realServer: string): boolean {
    return this.pending.has(id(virtualServer, realServer));
  }

  /** Starts tracking a real server set to weight 0; one already tracked keeps its first `since`. */
  add(rs: TerminatingRealServer): void {
    const key = id(rs.virtualServer, realServerKey(rs.address, rs.port));
    if (!this.pending.has(key)) this.pending.set(key, rs);
  }

  /** The real server is wanted again (or is gone): stop tracking it. */
  remove(virtualServer: string, realServer: string): void {
    // Called for every planned real server a sync writes: with nothing draining, skip the key.
    if (this.pending.size === 0) return;
    this.pending.delete(id(virtualServer, realServer));
  }

  /** Forgets every real server of a virtual server (the virtual server itself was deleted). */
  removeVirtualServer(virtualServer: string): void {
    for (const [k, rs] of this.pending) if (rs.virtualServer === virtualServer) this.pending.delete(k);
  }

  /** Stops tracking everything (the kernel state is to be read back; nothing is deleted). */
  forgetAll(): void {
    this.pending.clear();
  }

  /**
   * Deletes every draining real server whose connections are gone or whose time is up, of the
   * virtual servers in `only` when given (one connection-table read each); returns the
   * realServerKeys deleted per virtual server.
   */
  async process(ipvs: IpvsTable, now: number, only?: ReadonlySet<string>): Promise<Map<string, string[]>> {
    const deleted = new Map<string, string[]>();
    const byVs = new Map<string, TerminatingRealServer[]>();
    for (const rs of this.pending.values()) {
      if (only && !only.has(rs.virtualServer)) continue;
      const list = byVs.get(rs.virtualServer) ?? [];
      list.push(rs);
      byVs.set(rs.virtualServer, list);
    }
    for (const [vs, list] of byVs) {
      let dests: Awaited<ReturnType<IpvsTable['listDestinations']>>;
      try {
        dests = await ipvs.listDestinations(list[0]!.service);
      } catch (err) {
        if (!isIpvsNotFoundError(err)) throw err;
        // The virtual server is gone: nothing left to drain.
        this.removeVirtualServer(vs);
        continue;
      }
      const inKernel = new Map(dests.map((d) => [realServerKey(d.address, d.port), d]));
      for (const rs of list) {
        const key = realServerKey(rs.address, rs.port);
        const d = inKernel.get(key);
        if (!d) {
          this.remove(vs, key);
          continue;
        }
        const drained = d.activeConnections + d.inactiveConnections === 0;
        if (!drained && now - rs.since < this.timeoutMs) continue;
        await ipvs.deleteDestination(rs.service, { address: rs.address, port: rs.port });
        this.remove(vs, key);
        deleted.set(vs, [...(deleted.get(vs) ?? []), key]);
      }
    }
    return deleted;
  }
}
