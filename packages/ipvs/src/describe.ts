import { joinHostPort } from '@nodeagent/primitives/go-text';
import type { NormalizedDestinationKey, NormalizedServiceKey } from './validate';

/** How errors name a service, in ipvsadm's words: `TCP 10.0.0.1:80`, `FWM 7 (ipv6)`. */
export function describeService(key: NormalizedServiceKey): string {
  if (key.kind === 'fwmark') return `service FWM ${key.fwmark} (${key.family})`;
  return `service ${key.protocol.toUpperCase()} ${joinHostPort(key.address, key.port)}`;
}

export function describeDestination(service: NormalizedServiceKey, dest: NormalizedDestinationKey): string {
  return `destination ${joinHostPort(dest.address, dest.port)} of ${describeService(service)}`;
}
