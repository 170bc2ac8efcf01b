import type { NormalizedDestinationKey, NormalizedServiceKey } from './validate';

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** How errors name a service, in ipvsadm's words: `TCP 10.0.0.1:80`, `FWM 7 (ipv6)`. */
export function describeService(key: NormalizedServiceKey): string {
  if (key.kind === 'fwmark') return `service FWM ${key.fwmark} (${key.family})`;
  return `service ${key.protocol.toUpperCase()} ${hostPort(key.address, key.port)}`;
}

export function describeDestination(service: NormalizedServiceKey, dest: NormalizedDestinationKey): string {
  return `destination ${hostPort(dest.address, dest.port)} of ${describeService(service)}`;
}
