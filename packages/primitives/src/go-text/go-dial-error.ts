import { type SystemErrorFields, systemReason } from '../system-error';
import { joinHostPort } from './join-host-port';

/**
 * A TCP connection that could not be made, as Go's net.Dial prints it (net.OpError):
 * `dial tcp 10.0.0.1:80: connect: connection refused`, the address being the one dialled (the
 * error's own when Node gives it). A name that did not resolve is Go's DNSError without the
 * resolver's address (which Go's own resolver adds as ` on 10.96.0.10:53`):
 * `dial tcp: lookup web: no such host`.
 */
export function goDialError(error: unknown, host: string, port: number): string {
  const e = (error ?? {}) as SystemErrorFields;
  if (e.syscall === 'getaddrinfo' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    const reason = e.code === 'EAI_AGAIN' ? 'server misbehaving' : 'no such host';
    return `dial tcp: lookup ${host}: ${reason}`;
  }
  const address = joinHostPort(e.address ?? host, e.port ?? port);
  const call = e.syscall === 'connect' ? 'connect: ' : '';
  return `dial tcp ${address}: ${call}${systemReason(error)}`;
}

/** Go's net error at a dial's deadline: `dial tcp 10.0.0.1:80: i/o timeout`. */
export function goDialTimeout(host: string, port: number): string {
  return `dial tcp ${joinHostPort(host, port)}: i/o timeout`;
}
