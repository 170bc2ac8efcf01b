import { joinHostPort } from '@nodeagent/primitives/go-text';
import { decodeAddress, encodeAddress } from '../address';
import { describeDestination, describeService } from '../describe';
import {
  InvalidFieldError,
  IpvsAlreadyExistsError,
  IpvsClosedError,
  IpvsKernelError,
  IpvsNotFoundError,
} from '../errors';
import type { IpvsHandle } from '../handle';
import { serviceFlagBits, serviceFlagsFromBits } from '../service-codec';
import { emptyStats } from '../stats-codec';
import type {
  Destination,
  DestinationKey,
  DestinationSpec,
  IpvsInfo,
  IpvsTimeouts,
  Service,
  ServiceKey,
  ServiceSpec,
} from '../types';
import {
  type NormalizedDestinationSpec,
  type NormalizedServiceKey,
  normalizeDestinationKey,
  normalizeDestinationSpec,
  normalizeServiceKey,
  normalizeServiceSpec,
} from '../validate';

// errno values the kernel answers with (asm-generic/errno-base.h).
const ENOENT = 2;
const ESRCH = 3;
const EIO = 5;
const EEXIST = 17;
// IP_VS_SVC_F_HASHED: the kernel sets it on every service in its table.
const HASHED = 0x0002;
// The kernel's defaults (ip_vs_proto_tcp.c / ip_vs_proto_udp.c) and IP_VS_VERSION_CODE 1.2.1.
const DEFAULT_TIMEOUTS: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
const INFO: IpvsInfo = { version: '1.2.1', versionCode: 0x010201, connectionTableSize: 4096 };

interface ServiceState {
  key: NormalizedServiceKey;
  service: Service;
  dests: Map<string, Destination>;
}

const FORWARD_NAMES: Record<Destination['forwarding'], string> = {
  masquerade: 'Masq',
  local: 'Local',
  tunnel: 'Tunnel',
  'direct-route': 'Route',
};

/**
 * An in-memory IPVS table with Ipvs's interface. Inputs go through the same validation as the
 * real handle (InvalidFieldError before anything changes); then it answers as the kernel does:
 * adding an existing service or destination is IpvsAlreadyExistsError (EEXIST), a missing
 * service IpvsNotFoundError (ESRCH), a missing destination IpvsNotFoundError (ENOENT); deleting a
 * service deletes its destinations; addresses are kept in canonical form (the kernel stores
 * bytes); update merges flags through `flagsMask` and keeps HASHED; timeouts of 0 are left as
 * they are. Counters stay zero (there is no traffic) unless a test sets connection counts with
 * `setConnections` (standing in for traffic; updating a destination keeps them, as the kernel
 * does). `dump()` prints the table like `ipvsadm -Ln`. For callers' tests: `writes` logs every
 * change that was applied, and `failAfter(n)` makes the write after the next `n` fail with an
 * IpvsKernelError (EIO), as a kernel refusing mid-sync would. Not modelled: schedulers'
 * behaviour, the persistence netmask in dump().
 */
export class FakeIpvsHandle implements IpvsHandle {
  private readonly services = new Map<string, ServiceState>();
  private timeouts: IpvsTimeouts = { ...DEFAULT_TIMEOUTS };
  private closed = false;
  private writesLeft = Number.POSITIVE_INFINITY;
  /** Every applied change, in order: `add-service tcp/10.96.0.10:80`, `update-destination tcp/10.96.0.10:80 10.244.1.1:8080`, … */
  readonly writes: string[] = [];

  /** The next `n` writes succeed and the one after fails with IpvsKernelError (EIO); then all work again. */
  failAfter(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new InvalidFieldError('failAfter', n, 'expected a count >= 0');
    this.writesLeft = n;
  }

  /**
   * Sets the connection counts the kernel would report for a destination (standing in for
   * traffic, e.g. to test graceful termination). IpvsNotFoundError if there is no such one.
   */
  setConnections(service: ServiceKey, dest: DestinationKey, active: number, inactive: number): void {
    const k = normalizeServiceKey(service);
    const d = normalizeDestinationKey(dest);
    const state = this.find(k, 'set connections of', d);
    const current = state.dests.get(destinationId(d));
    if (!current)
      throw new IpvsNotFoundError(ENOENT, 'ENOENT', 'set connections of', describeDestination(state.key, d));
    current.activeConnections = active;
    current.inactiveConnections = inactive;
  }

  /** Records a write about to be applied, or fails it when failAfter says so (nothing changes). */
  private write(operation: string, target: string): void {
    if (this.writesLeft === 0) {
      this.writesLeft = Number.POSITIVE_INFINITY;
      throw new IpvsKernelError(EIO, 'EIO', operation, target);
    }
    this.writesLeft--;
    this.writes.push(`${operation} ${target}`);
  }

  async addService(spec: ServiceSpec): Promise<void> {
    this.open();
    const s = normalizeServiceSpec(spec, serviceFlagBits);
    const key = canonicalKey(s.key);
    const id = serviceId(key);
    if (this.services.has(id))
      throw new IpvsAlreadyExistsError(EEXIST, 'EEXIST', 'add', describeService(key));
    this.write('add-service', id);
    const flagBits = (s.flags & s.flagsMask) | HASHED;
    const service: Service = {
      family: key.family,
      ...(key.kind === 'fwmark'
        ? { fwmark: key.fwmark }
        : { protocol: key.protocol, address: key.address, port: key.port }),
      scheduler: s.scheduler,
      flags: serviceFlagsFromBits(flagBits),
      flagBits,
      timeout: s.timeout,
      netmask: s.netmask,
      stats: emptyStats(),
    };
    if (s.persistenceEngine !== undefined) service.persistenceEngine = s.persistenceEngine;
    this.services.set(id, { key, service, dests: new Map() });
  }

  async updateService(spec: ServiceSpec): Promise<void> {
    this.open();
    const s = normalizeServiceSpec(spec, serviceFlagBits);
    const state = this.find(s.key, 'update');
    this.write('update-service', serviceId(state.key));
    const bits = ((state.service.flagBits & ~s.flagsMask) | (s.flags & s.flagsMask) | HASHED) >>> 0;
    Object.assign(state.service, {
      scheduler: s.scheduler,
      flagBits: bits,
      flags: serviceFlagsFromBits(bits),
      timeout: s.timeout,
      netmask: s.netmask,
    });
    if (s.persistenceEngine !== undefined) state.service.persistenceEngine = s.persistenceEngine;
    else delete state.service.persistenceEngine;
  }

  async deleteService(key: ServiceKey): Promise<void> {
    this.open();
    const k = normalizeServiceKey(key);
    this.find(k, 'delete');
    this.write('delete-service', serviceId(canonicalKey(k)));
    this.services.delete(serviceId(canonicalKey(k)));
  }

  async getService(key: ServiceKey): Promise<Service> {
    this.open();
    // The real handle's get answers ENOENT for a missing service.
    const k = canonicalKey(normalizeServiceKey(key));
    const state = this.services.get(serviceId(k));
    if (!state) throw new IpvsNotFoundError(ENOENT, 'ENOENT', 'get', describeService(k));
    return structuredClone(state.service);
  }

  async serviceExists(key: ServiceKey): Promise<boolean> {
    this.open();
    return this.services.has(serviceId(canonicalKey(normalizeServiceKey(key))));
  }

  async listServices(): Promise<Service[]> {
    this.open();
    return [...this.services.values()].map((s) => structuredClone(s.service));
  }

  async addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    this.open();
    const k = normalizeServiceKey(service);
    const d = normalizeDestinationSpec(dest, k);
    const state = this.find(k, 'add', d);
    const id = destinationId(d);
    if (state.dests.has(id))
      throw new IpvsAlreadyExistsError(EEXIST, 'EEXIST', 'add', describeDestination(state.key, d));
    this.write('add-destination', `${serviceId(state.key)} ${id}`);
    state.dests.set(id, toDestination(d));
  }

  async updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    this.open();
    const k = normalizeServiceKey(service);
    const d = normalizeDestinationSpec(dest, k);
    const state = this.find(k, 'update', d);
    const id = destinationId(d);
    const current = state.dests.get(id);
    if (!current) throw new IpvsNotFoundError(ENOENT, 'ENOENT', 'update', describeDestination(state.key, d));
    this.write('update-destination', `${serviceId(state.key)} ${id}`);
    // The kernel keeps a destination's connections and counters across an update.
    state.dests.set(id, {
      ...toDestination(d),
      activeConnections: current.activeConnections,
      inactiveConnections: current.inactiveConnections,
      persistentConnections: current.persistentConnections,
      ...(current.stats ? { stats: current.stats } : {}),
    });
  }

  async deleteDestination(service: ServiceKey, dest: DestinationKey): Promise<void> {
    this.open();
    const k = normalizeServiceKey(service);
    const d = normalizeDestinationKey(dest);
    const state = this.find(k, 'delete', d);
    if (!state.dests.has(destinationId(d)))
      throw new IpvsNotFoundError(ENOENT, 'ENOENT', 'delete', describeDestination(state.key, d));
    this.write('delete-destination', `${serviceId(state.key)} ${destinationId(d)}`);
    state.dests.delete(destinationId(d));
  }

  async listDestinations(service: ServiceKey): Promise<Destination[]> {
    this.open();
    const state = this.find(normalizeServiceKey(service), 'list destinations of');
    return [...state.dests.values()].map((d) => structuredClone(d));
  }

  async zeroCounters(service?: ServiceKey): Promise<void> {
    this.open();
    // Counters never move here; zeroing a missing service still fails as in the kernel.
    if (service !== undefined) this.find(normalizeServiceKey(service), 'zero');
  }

  async flush(): Promise<void> {
    this.open();
    this.write('flush', 'all');
    this.services.clear();
  }

  async getInfo(): Promise<IpvsInfo> {
    this.open();
    return { ...INFO };
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    this.open();
    return { ...this.timeouts };
  }

  async setTimeouts(timeouts: Partial<IpvsTimeouts>): Promise<void> {
    this.open();
    const next = { ...this.timeouts };
    for (const name of ['tcp', 'tcpFin', 'udp'] as const) {
      const v = timeouts[name] ?? 0;
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
        throw new InvalidFieldError(`timeouts.${name}`, v, 'expected seconds in 0..2147483647');
      if (v !== 0) next[name] = v;
    }
    this.write('set-timeouts', `tcp=${next.tcp} tcpFin=${next.tcpFin} udp=${next.udp}`);
    this.timeouts = next;
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The table as `ipvsadm -Ln` prints it: services sorted (as ipvsadm sorts them), each followed
   * by its destinations.
   */
  dump(): string {
    const lines = [
      `IP Virtual Server version ${INFO.version} (size=${INFO.connectionTableSize})`,
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    ];
    const states = [...this.services.values()].sort((a, b) => compareKeys(a.key, b.key));
    for (const { key, service, dests } of states) {
      let line =
        key.kind === 'fwmark'
          ? `FWM  ${key.fwmark}${key.family === 'ipv6' ? ' IPv6' : ''} ${service.scheduler}`
          : `${key.protocol.toUpperCase()}  ${joinHostPort(key.address, key.port)} ${service.scheduler}`;
      if (service.flags.persistent) line += ` persistent ${service.timeout}`;
      if (service.flags.onePacket) line += ' ops';
      if (service.persistenceEngine !== undefined) line += ` pe ${service.persistenceEngine}`;
      lines.push(line);
      const sorted = [...dests.values()].sort((a, b) =>
        compareText(joinHostPort(a.address, a.port), joinHostPort(b.address, b.port)),
      );
      for (const d of sorted) {
        const addr = joinHostPort(d.address, d.port).padEnd(28);
        lines.push(
          `  -> ${addr} ${FORWARD_NAMES[d.forwarding].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConnections).padEnd(10)} ${d.inactiveConnections}`,
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private open(): void {
    if (this.closed) throw new IpvsClosedError();
  }

  /** The service's state; IpvsNotFoundError (ESRCH) naming `dest` too when given. */
  private find(
    key: NormalizedServiceKey,
    operation: string,
    dest?: { address: string; port: number; family: Destination['family'] },
  ): ServiceState {
    const k = canonicalKey(key);
    const state = this.services.get(serviceId(k));
    if (!state) {
      const target = dest ? describeDestination(k, dest) : describeService(k);
      throw new IpvsNotFoundError(ESRCH, 'ESRCH', operation, target);
    }
    return state;
  }
}

function canonicalAddress(address: string, family: Destination['family'], field: string): string {
  return decodeAddress(encodeAddress(address, field), family);
}

function canonicalKey(key: NormalizedServiceKey): NormalizedServiceKey {
  if (key.kind === 'fwmark') return key;
  return { ...key, address: canonicalAddress(key.address, key.family, 'service.address') };
}

function serviceId(key: NormalizedServiceKey): string {
  return key.kind === 'fwmark'
    ? `fwmark/${key.family}/${key.fwmark}`
    : `${key.protocol}/${joinHostPort(key.address, key.port)}`;
}

function destinationId(d: { address: string; port: number; family: Destination['family'] }): string {
  return joinHostPort(canonicalAddress(d.address, d.family, 'destination.address'), d.port);
}

function toDestination(d: NormalizedDestinationSpec): Destination {
  const out: Destination = {
    address: canonicalAddress(d.address, d.family, 'destination.address'),
    port: d.port,
    family: d.family,
    forwarding: d.forwarding,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    activeConnections: 0,
    inactiveConnections: 0,
    persistentConnections: 0,
    stats: emptyStats(),
  };
  if (d.tunnelType !== undefined) out.tunnelType = d.tunnelType;
  if (d.tunnelPort !== undefined) out.tunnelPort = d.tunnelPort;
  if (d.tunnelFlags !== undefined) out.tunnelFlags = { ...d.tunnelFlags };
  return out;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: NormalizedServiceKey, b: NormalizedServiceKey): number {
  if (a.kind !== b.kind) return a.kind === 'addr' ? -1 : 1;
  if (a.kind === 'fwmark' && b.kind === 'fwmark')
    return a.fwmark - b.fwmark || compareText(a.family, b.family);
  return compareText(serviceId(a), serviceId(b));
}
