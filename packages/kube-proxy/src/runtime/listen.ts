import type { Server } from 'node:http';
import { KubeProxyError } from '../errors';

/** Splits "ip:port" / "[ip6]:port" into host and port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new KubeProxyError('INVALID_ADDRESS', `not host:port: ${JSON.stringify(address)}`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

export function listen(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', onError);
      const addr = server.address();
      if (addr && typeof addr === 'object') resolve({ host: addr.address, port: addr.port });
      else resolve({ host, port });
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
