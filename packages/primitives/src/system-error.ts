import { getSystemErrorMap } from 'node:util';

/** What Node puts on a failed system call's error (fs, net): all optional, since anything may be thrown. */
interface SystemErrorFields {
  errno?: number;
  code?: string;
  syscall?: string;
  path?: string;
  message?: string;
  /** The address a failed connect dialled (net: the resolved IP) and its port. */
  address?: string;
  port?: number;
}

/**
 * Linux's strerror words (which Go's syscall.Errno prints, first letter lowercased) where libuv's
 * differ: "device or resource busy", not libuv's "resource busy or locked". Keyed by the code.
 */
const linuxErrnoText: Readonly<Record<string, string>> = {
  EIO: 'input/output error',
  ENOMEM: 'cannot allocate memory',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  EISDIR: 'is a directory',
  ENFILE: 'too many open files in system',
  ETXTBSY: 'text file busy',
  ESPIPE: 'illegal seek',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EILSEQ: 'invalid or incomplete multibyte or wide character',
  ENOTSUP: 'operation not supported',
  EAFNOSUPPORT: 'address family not supported by protocol',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EISCONN: 'transport endpoint is already connected',
  ENOTCONN: 'transport endpoint is not connected',
  EHOSTUNREACH: 'no route to host',
  EALREADY: 'operation already in progress',
};

/**
 * The system's words for a failed system call as the Go originals print them ("address already
 * in use", "is a directory"): what an operator reads after the setting's name. Anything else
 * gives its message's first line, with Node's `ENOENT: ` prefix and `, open '/x'` suffix dropped
 * when it has them.
 */
export function systemReason(error: unknown): string {
  const e = (error ?? {}) as SystemErrorFields;
  const entry = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno) : undefined;
  const known = entry && (linuxErrnoText[entry[0]] ?? entry[1]);
  if (known) return known;
  const text = String(e.message ?? error).split('\n')[0] ?? '';
  return /^[A-Z]+: ([^,]+)/.exec(text)?.[1] ?? text;
}

/**
 * A failed file operation as upstream prints it (Go's os.PathError): `mkdir /x/pki: not a
 * directory`. Without the call and path Node gives, the reason alone.
 */
export function goPathError(error: unknown): string {
  const { syscall, path } = (error ?? {}) as SystemErrorFields;
  const reason = systemReason(error);
  return syscall && path ? `${syscall} ${path}: ${reason}` : reason;
}

/** host:port as Go's net.JoinHostPort writes it (IPv6 in brackets, `:10250` for any address). */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A listener that could not bind, as upstream prints it (Go's net.OpError):
 * `listen tcp 127.0.0.1:10248: bind: address already in use`.
 */
export function goListenError(error: unknown, host: string, port: number): string {
  return `listen tcp ${joinHostPort(host, port)}: bind: ${systemReason(error)}`;
}

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
