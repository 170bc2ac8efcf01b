import { addressFamily } from './address';
import { InvalidFieldError } from './errors';
import {
  type AddressFamily,
  type DestinationKey,
  type DestinationSpec,
  type ForwardingMethod,
  type Protocol,
  type Scheduler,
  type ServiceKey,
  type ServiceSpec,
  schedulers,
  type TunnelType,
} from './types';

const protocols: readonly Protocol[] = ['tcp', 'udp', 'sctp'];
const forwardingMethods: readonly ForwardingMethod[] = ['masquerade', 'local', 'tunnel', 'direct-route'];
const tunnelTypes: readonly TunnelType[] = ['ipip', 'gue', 'gre'];

/** A service key after validation: exactly one of the two identities, family always known. */
export type NormalizedServiceKey =
  | { kind: 'addr'; family: AddressFamily; protocol: Protocol; address: string; port: number }
  | { kind: 'fwmark'; family: AddressFamily; fwmark: number };

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function checkFamily(value: unknown, field: string): AddressFamily | undefined {
  if (value === undefined) return undefined;
  if (value === 'ipv4' || value === 'ipv6') return value;
  throw new InvalidFieldError(field, value, "expected 'ipv4' or 'ipv6'");
}

/** A service key checked and canonical (typed errors name the field and value). */
export function normalizeServiceKey(key: ServiceKey, field = 'service'): NormalizedServiceKey {
  if (key === null || typeof key !== 'object') throw new InvalidFieldError(field, key, 'expected an object');
  const family = checkFamily(key.family, `${field}.family`);
  if (key.fwmark !== undefined) {
    if (!isUint(key.fwmark, 0xffffffff) || key.fwmark === 0) {
      throw new InvalidFieldError(`${field}.fwmark`, key.fwmark, 'expected an integer in 1..4294967295');
    }
    if (key.address !== undefined || key.port !== undefined || key.protocol !== undefined) {
      throw new InvalidFieldError(field, key, 'a firewall-mark service has no protocol, address or port');
    }
    return { kind: 'fwmark', family: family ?? 'ipv4', fwmark: key.fwmark };
  }
  if (!protocols.includes(key.protocol as Protocol)) {
    throw new InvalidFieldError(`${field}.protocol`, key.protocol, `expected one of ${protocols.join(', ')}`);
  }
  const addrFamily = addressFamily(key.address as string, `${field}.address`);
  if (family !== undefined && family !== addrFamily) {
    throw new InvalidFieldError(
      `${field}.address`,
      key.address,
      `${addrFamily} address for an ${family} service`,
    );
  }
  if (!isUint(key.port, 65535) || key.port === 0) {
    throw new InvalidFieldError(`${field}.port`, key.port, 'expected an integer in 1..65535');
  }
  return {
    kind: 'addr',
    family: addrFamily,
    protocol: key.protocol as Protocol,
    address: key.address as string,
    port: key.port,
  };
}

/** A service spec checked and canonical, as the codec encodes it. */
export interface NormalizedServiceSpec {
  key: NormalizedServiceKey;
  scheduler: Scheduler;
  flags: number;
  flagsMask: number;
  timeout: number;
  /** Prefix length. */
  netmask: number;
  persistenceEngine?: string;
}

/** A service spec checked and canonical, defaults filled in. */
export function normalizeServiceSpec(
  spec: ServiceSpec,
  flagBits: (f: ServiceSpec['flags']) => number,
): NormalizedServiceSpec {
  const key = normalizeServiceKey(spec);
  if (!schedulers.includes(spec.scheduler)) {
    throw new InvalidFieldError(
      'service.scheduler',
      spec.scheduler,
      `unknown scheduler; expected one of ${schedulers.join(', ')}`,
    );
  }
  const flags = flagBits(spec.flags);
  const flagsMask = spec.flagsMask ?? 0xffffffff;
  if (!isUint(flagsMask, 0xffffffff))
    throw new InvalidFieldError('service.flagsMask', spec.flagsMask, 'expected a 32-bit unsigned integer');
  const timeout = spec.timeout ?? (spec.flags?.persistent ? 300 : 0);
  if (!isUint(timeout, 0xffffffff))
    throw new InvalidFieldError(
      'service.timeout',
      spec.timeout,
      'expected seconds as a 32-bit unsigned integer',
    );
  const maxPrefix = key.family === 'ipv6' ? 128 : 32;
  const netmask = spec.netmask ?? maxPrefix;
  if (!isUint(netmask, maxPrefix) || (key.family === 'ipv6' && netmask === 0)) {
    throw new InvalidFieldError(
      'service.netmask',
      spec.netmask,
      `expected a prefix length in ${key.family === 'ipv6' ? 1 : 0}..${maxPrefix}`,
    );
  }
  const pe = spec.persistenceEngine;
  if (pe !== undefined && (typeof pe !== 'string' || pe.length === 0 || Buffer.byteLength(pe) > 15)) {
    throw new InvalidFieldError('service.persistenceEngine', pe, 'expected a name of 1..15 bytes');
  }
  // Plain properties, no object spread: this runs once per request in bulk updates.
  const out: NormalizedServiceSpec = { key, scheduler: spec.scheduler, flags, flagsMask, timeout, netmask };
  if (pe !== undefined) out.persistenceEngine = pe;
  return out;
}

/** A destination key checked and canonical. */
export interface NormalizedDestinationKey {
  address: string;
  port: number;
  family: AddressFamily;
}

/** A destination key checked and canonical. */
export function normalizeDestinationKey(dest: DestinationKey): NormalizedDestinationKey {
  if (dest === null || typeof dest !== 'object')
    throw new InvalidFieldError('destination', dest, 'expected an object');
  const family = addressFamily(dest.address, 'destination.address');
  if (!isUint(dest.port, 65535))
    throw new InvalidFieldError('destination.port', dest.port, 'expected an integer in 0..65535');
  return { address: dest.address, port: dest.port, family };
}

/** A destination spec checked and canonical, defaults filled in. */
export interface NormalizedDestinationSpec extends NormalizedDestinationKey {
  forwarding: ForwardingMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelFlags?: { checksum: boolean; remoteChecksum: boolean };
}

/** A destination spec checked and canonical, defaults filled in. */
export function normalizeDestinationSpec(
  dest: DestinationSpec,
  service: NormalizedServiceKey,
): NormalizedDestinationSpec {
  const key = normalizeDestinationKey(dest);
  const forwarding = dest.forwarding ?? 'masquerade';
  if (!forwardingMethods.includes(forwarding)) {
    throw new InvalidFieldError(
      'destination.forwarding',
      dest.forwarding,
      `expected one of ${forwardingMethods.join(', ')}`,
    );
  }
  const declared = checkFamily(dest.family, 'destination.family');
  if (declared !== undefined && declared !== key.family) {
    throw new InvalidFieldError(
      'destination.address',
      dest.address,
      `${key.family} address but family says ${declared}`,
    );
  }
  // The kernel accepts a real server of the other family only behind an IP-in-IP style tunnel.
  if (key.family !== service.family && forwarding !== 'tunnel') {
    throw new InvalidFieldError(
      'destination.address',
      dest.address,
      `${key.family} destination for an ${service.family} service needs forwarding 'tunnel'`,
    );
  }
  const weight = dest.weight ?? 1;
  if (!isUint(weight, 0x7fffffff))
    throw new InvalidFieldError('destination.weight', dest.weight, 'expected an integer in 0..2147483647');
  const upperThreshold = dest.upperThreshold ?? 0;
  const lowerThreshold = dest.lowerThreshold ?? 0;
  if (!isUint(upperThreshold, 0xffffffff))
    throw new InvalidFieldError(
      'destination.upperThreshold',
      upperThreshold,
      'expected a 32-bit unsigned integer',
    );
  if (!isUint(lowerThreshold, 0xffffffff))
    throw new InvalidFieldError(
      'destination.lowerThreshold',
      lowerThreshold,
      'expected a 32-bit unsigned integer',
    );
  const out: NormalizedDestinationSpec = {
    address: key.address,
    port: key.port,
    family: key.family,
    forwarding,
    weight,
    upperThreshold,
    lowerThreshold,
  };
  if (dest.tunnelType !== undefined || dest.tunnelPort !== undefined || dest.tunnelFlags !== undefined) {
    if (forwarding !== 'tunnel')
      throw new InvalidFieldError(
        'destination.tunnelType',
        dest.tunnelType,
        "tunnel settings need forwarding 'tunnel'",
      );
    const tunnelType = dest.tunnelType ?? 'ipip';
    if (!tunnelTypes.includes(tunnelType))
      throw new InvalidFieldError(
        'destination.tunnelType',
        dest.tunnelType,
        `expected one of ${tunnelTypes.join(', ')}`,
      );
    const tunnelPort = dest.tunnelPort ?? 0;
    if (!isUint(tunnelPort, 65535))
      throw new InvalidFieldError(
        'destination.tunnelPort',
        dest.tunnelPort,
        'expected an integer in 0..65535',
      );
    out.tunnelType = tunnelType;
    out.tunnelPort = tunnelPort;
    out.tunnelFlags = {
      checksum: !!dest.tunnelFlags?.checksum,
      remoteChecksum: !!dest.tunnelFlags?.remoteChecksum,
    };
  }
  return out;
}
