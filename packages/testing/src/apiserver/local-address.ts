import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/**
 * Whether `host` is this machine: a loopback address, an address of one of its interfaces, or
 * its own name. The in-process API server is a test double: it connects to kubelets here and
 * nowhere else, so a Node whose address lives only inside a network namespace (or anywhere off
 * this host) is never dialled through the host's default route.
 */
export function isOnThisMachine(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return bare === 'localhost' || bare === hostname();
  if (family === 4 && bare.startsWith('127.')) return true;
  if (family === 6 && (bare === '::1' || bare.startsWith('::ffff:127.'))) return true;
  for (const addresses of Object.values(networkInterfaces()))
    for (const address of addresses ?? []) if (address.address === bare) return true;
  return false;
}
