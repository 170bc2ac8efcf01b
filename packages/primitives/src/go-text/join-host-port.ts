/** host:port as Go's net.JoinHostPort writes it (IPv6 in brackets, `:10250` for any address). */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
