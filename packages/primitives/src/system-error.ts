import { getSystemErrorMap } from 'node:util';
import { joinHostPort } from './go-text/join-host-port';

/** What Node puts on a failed system call's error (fs, net): all optional, since anything may be thrown. */
export interface SystemErrorFields {
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

/**
 * A listener that could not bind, as upstream prints it (Go's net.OpError):
 * `listen tcp 127.0.0.1:10248: bind: address already in use`.
 */
export function goListenError(error: unknown, host: string, port: number): string {
  return `listen tcp ${joinHostPort(host, port)}: bind: ${systemReason(error)}`;
}
