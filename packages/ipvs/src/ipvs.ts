import { GENL_ID_CTRL, IPVS_GENL_NAME, IPVS_GENL_VERSION, NlmFlag } from './constants';
import { describeDestination, describeService } from './describe';
import {
  InvalidFieldError,
  IpvsAlreadyExistsError,
  IpvsKernelError,
  IpvsNotFoundError,
  IpvsUnavailableError,
} from './errors';
import type { IpvsHandle } from './handle';
import { NetlinkTransport } from './netlink-transport';
import { NetnsTransport } from './netns-transport';
import {
  decodeDestinationReply,
  decodeFamilyReply,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
} from './replies';
import { RequestGate } from './request-gate';
import { type GenlRequest, getFamilyRequest, requests } from './requests';
import { serviceFlagBits } from './service-codec';
import { type GenlTransport, NetlinkErrnoError } from './transport';
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
import {
  normalizeDestinationKey,
  normalizeDestinationSpec,
  normalizeServiceKey,
  normalizeServiceSpec,
} from './validate';
import { WriteBatcher } from './write-batcher';

/** Where openIpvs programs IPVS: a transport, another network namespace, or this one. */
export interface OpenIpvsOptions {
  /** Use this transport instead of a new netlink socket (tests, or a socket made elsewhere). */
  transport?: GenlTransport;
  /**
   * Program the IPVS table of another network namespace, e.g. `/run/netns/blue` or
   * `/proc/<pid>/ns/net` (needs `nsenter` from util-linux; see NetnsTransport).
   */
  netnsPath?: string;
  /**
   * With netnsPath: the relay script to run inside the namespace (see NetnsTransportOptions);
   * needed where this package was bundled away from its relay/ directory.
   */
  relayPath?: string;
  /** Messages in flight at once on this handle. Default 256. */
  maxInFlight?: number;
  /**
   * Writes per batched datagram when the transport supports batching (the netlink one does).
   * Default 128; 0 sends every write as its own acknowledged request.
   */
  maxBatch?: number;
}

/** Maps a kernel errno to the typed error for `operation` on `target`. */
export function kernelError(err: unknown, operation: string, target: string): unknown {
  if (!(err instanceof NetlinkErrnoError)) return err;
  if (err.errnoName === 'EEXIST')
    return new IpvsAlreadyExistsError(err.errno, err.errnoName, operation, target);
  if (err.errnoName === 'ESRCH' || err.errnoName === 'ENOENT')
    return new IpvsNotFoundError(err.errno, err.errnoName, operation, target);
  return new IpvsKernelError(err.errno, err.errnoName, operation, target);
}

/**
 * A handle on the kernel's IPVS table in one network namespace. Requests may be issued
 * concurrently; they are pipelined on one socket, dumps run alone.
 */
export class Ipvs implements IpvsHandle {
  private readonly gate: RequestGate;
  private readonly batcher: WriteBatcher | undefined;

  private constructor(
    private readonly transport: GenlTransport,
    /** Generic netlink family id the kernel assigned to IPVS. */
    readonly familyId: number,
    maxInFlight: number,
    maxBatch: number,
  ) {
    this.gate = new RequestGate(maxInFlight);
    const { requestBatch } = transport;
    if (requestBatch && maxBatch > 0) {
      const batching = {
        request: transport.request.bind(transport),
        close: transport.close.bind(transport),
        requestBatch: requestBatch.bind(transport),
      };
      this.batcher = new WriteBatcher(batching, familyId, this.gate, Math.min(maxBatch, maxInFlight));
    }
  }

  /** Opens a handle, resolving the `IPVS` generic netlink family (IpvsUnavailableError if absent). */
  static async open(options: OpenIpvsOptions = {}): Promise<Ipvs> {
    let transport: GenlTransport;
    if (options.transport) transport = options.transport;
    else if (options.netnsPath !== undefined) {
      const relay = new NetnsTransport(options.netnsPath, { relayPath: options.relayPath });
      try {
        await relay.ready;
      } catch (err) {
        relay.close();
        throw err;
      }
      transport = relay;
    } else transport = await NetlinkTransport.open();
    try {
      const req = getFamilyRequest(IPVS_GENL_NAME);
      let replies: Buffer[];
      try {
        replies = await transport.request(GENL_ID_CTRL, req.flags, req.payload);
      } catch (err) {
        if (err instanceof NetlinkErrnoError && err.errnoName === 'ENOENT') {
          throw new IpvsUnavailableError(`generic netlink family "${IPVS_GENL_NAME}" not registered`);
        }
        throw err;
      }
      const first = replies[0];
      if (!first) throw new IpvsUnavailableError('empty reply to the family lookup');
      const family = decodeFamilyReply(first);
      if (family.version < IPVS_GENL_VERSION) {
        throw new IpvsUnavailableError(`family version ${family.version}, need ${IPVS_GENL_VERSION}`);
      }
      return new Ipvs(transport, family.id, options.maxInFlight ?? 256, options.maxBatch ?? 128);
    } catch (err) {
      if (!options.transport) transport.close();
      throw err;
    }
  }

  /**
   * A write: no reply expected, so it may travel in a batch. `build` validates and encodes (a
   * validation error rejects the returned promise) and says how to name the object, which runs
   * only for an error: building that text for each of 250k successful writes was measurable.
   * Not async: one promise per write, not three (bulk updates make hundreds of thousands).
   */
  private write(operation: string, build: () => { req: GenlRequest; target: () => string }): Promise<void> {
    let built: { req: GenlRequest; target: () => string };
    try {
      built = build();
    } catch (err) {
      return Promise.reject(err);
    }
    const { req, target } = built;
    if (this.batcher) return this.batcher.submit(req, (err) => kernelError(err, operation, target()));
    return this.send(req, operation, target()).then(() => undefined);
  }

  private async send(req: GenlRequest, operation: string, target: string): Promise<Buffer[]> {
    const dump = (req.flags & NlmFlag.DUMP) === NlmFlag.DUMP;
    // Writes queued before this request go out first.
    this.batcher?.flush();
    try {
      return await this.gate.run(() => this.transport.request(this.familyId, req.flags, req.payload), dump);
    } catch (err) {
      throw kernelError(err, operation, target);
    }
  }

  addService(spec: ServiceSpec): Promise<void> {
    return this.write('add', () => {
      const n = normalizeServiceSpec(spec, serviceFlagBits);
      return { req: requests.newService(n), target: () => describeService(n.key) };
    });
  }

  updateService(spec: ServiceSpec): Promise<void> {
    return this.write('update', () => {
      const n = normalizeServiceSpec(spec, serviceFlagBits);
      return { req: requests.setService(n), target: () => describeService(n.key) };
    });
  }

  deleteService(key: ServiceKey): Promise<void> {
    return this.write('delete', () => {
      const k = normalizeServiceKey(key);
      return { req: requests.delService(k), target: () => describeService(k) };
    });
  }

  /** The service with its stats; IpvsNotFoundError if there is none. */
  async getService(key: ServiceKey): Promise<Service> {
    const k = normalizeServiceKey(key);
    const [reply] = await this.send(requests.getService(k), 'get', describeService(k));
    if (!reply) throw new IpvsNotFoundError(0, 'ENOENT', 'get', describeService(k));
    return decodeServiceReply(reply);
  }

  async serviceExists(key: ServiceKey): Promise<boolean> {
    try {
      await this.getService(key);
      return true;
    } catch (err) {
      if (err instanceof IpvsNotFoundError) return false;
      throw err;
    }
  }

  async listServices(): Promise<Service[]> {
    const replies = await this.send(requests.dumpServices(), 'list', 'services');
    return replies.map(decodeServiceReply);
  }

  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    return this.write('add', () => {
      const k = normalizeServiceKey(service);
      const d = normalizeDestinationSpec(dest, k);
      return { req: requests.newDest(k, d), target: () => describeDestination(k, d) };
    });
  }

  updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    return this.write('update', () => {
      const k = normalizeServiceKey(service);
      const d = normalizeDestinationSpec(dest, k);
      return { req: requests.setDest(k, d), target: () => describeDestination(k, d) };
    });
  }

  deleteDestination(service: ServiceKey, dest: DestinationKey): Promise<void> {
    return this.write('delete', () => {
      const k = normalizeServiceKey(service);
      const d = normalizeDestinationKey(dest);
      return { req: requests.delDest(k, d), target: () => describeDestination(k, d) };
    });
  }

  async listDestinations(service: ServiceKey): Promise<Destination[]> {
    const k = normalizeServiceKey(service);
    const replies = await this.send(requests.dumpDests(k), 'list destinations of', describeService(k));
    return replies.map((r) => decodeDestinationReply(r, k.family));
  }

  /** Zeroes the counters of one service (and its destinations), or of everything. */
  zeroCounters(service?: ServiceKey): Promise<void> {
    return this.write('zero', () => {
      const k = service === undefined ? undefined : normalizeServiceKey(service);
      return { req: requests.zero(k), target: () => (k ? describeService(k) : 'all services') };
    });
  }

  /** Deletes every service and destination. */
  flush(): Promise<void> {
    return this.write('flush', () => {
      return { req: requests.flush(), target: () => 'all services' };
    });
  }

  async getInfo(): Promise<IpvsInfo> {
    const [reply] = await this.send(requests.getInfo(), 'get', 'info');
    if (!reply) throw new IpvsKernelError(0, 'ENODATA', 'get', 'info');
    return decodeInfoReply(reply);
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const [reply] = await this.send(requests.getConfig(), 'get', 'timeouts');
    if (!reply) throw new IpvsKernelError(0, 'ENODATA', 'get', 'timeouts');
    return decodeTimeoutsReply(reply);
  }

  /** Sets the connection timeouts in seconds; a field left out (or 0) stays as it is. */
  async setTimeouts(timeouts: Partial<IpvsTimeouts>): Promise<void> {
    const t = { tcp: timeouts.tcp ?? 0, tcpFin: timeouts.tcpFin ?? 0, udp: timeouts.udp ?? 0 };
    for (const [name, v] of Object.entries(t)) {
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
        throw new InvalidFieldError(`timeouts.${name}`, v, 'expected seconds in 0..2147483647');
    }
    await this.write('set', () => ({ req: requests.setConfig(t), target: () => 'timeouts' }));
  }

  close(): void {
    this.transport.close();
  }
}

/** Shorthand for Ipvs.open(). */
export function openIpvs(options?: OpenIpvsOptions): Promise<Ipvs> {
  return Ipvs.open(options);
}
