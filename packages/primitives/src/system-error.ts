import { getSystemErrorMap } from 'node:util';

/** What Node puts on a failed system call's error (fs, net): all optional, since anything may be thrown. */
interface SystemErrorFields {
  errno?: number;
  syscall?: string;
  path?: string;
  message?: string;
}

/**
 * The system's words for a failed system call ("address already in use", "not a directory"): what
 * an operator reads after the setting's name. Anything else gives its message's first line, with
 * Node's `ENOENT: ` prefix and `, open '/x'` suffix dropped when it has them.
 */
export function systemReason(error: unknown): string {
  const e = (error ?? {}) as SystemErrorFields;
  const known = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
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
