import { constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeProxyError } from '../errors';
import type { SysctlLayer } from './sysctl-layer';

/** The kernel refused a sysctl write (EACCES, EINVAL, ENOENT…): `errno` says why. */
export class SysctlWriteError extends KubeProxyError {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly path: string,
    /** The system's error code, e.g. EINVAL; undefined when the failure had none. */
    readonly errno: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('SYSCTL_WRITE', `sysctl ${key}=${value}: ${reason}`, { cause });
  }
}

/**
 * The file under `root` for a sysctl key. A dotted key's dots are the path's slashes, and a
 * slash inside a dotted key is a dot in a file name (`net.ipv4.conf.eth0/100.rp_filter` is
 * net/ipv4/conf/eth0.100/rp_filter), as sysctl(8) and upstream's NormalizeName have it; a key
 * whose first separator is a slash is a path already.
 */
export function sysctlPath(key: string, root = '/proc/sys'): string {
  const first = key.search(/[./]/);
  const rel = first >= 0 && key[first] === '/' ? key : key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
  return join(root, rel);
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * SysctlLayer over the files under /proc/sys, as upstream's procSysctl: no `sysctl` binary, so
 * an empty PATH or a node without procps does not matter. /proc/sys/net shows the network
 * namespace of the process that opens the file, so this acts on the caller's own namespace.
 */
export function procSysctlLayer(root = '/proc/sys'): SysctlLayer {
  return {
    async get(keys) {
      const out = new Map<string, string>();
      for (const key of keys) {
        const value = await readFile(sysctlPath(key, root), 'utf8').catch((err: unknown) => {
          // A key this kernel lacks (module not loaded) or will not show is left out, as
          // `sysctl` leaves it out and upstream writes after a failed read.
          if (errnoOf(err) !== undefined) return undefined;
          throw err;
        });
        // Upstream trims spaces and newlines; tabs inside (ip_local_port_range) stay.
        if (value !== undefined) out.set(key, value.replace(/^[ \n]+|[ \n]+$/g, ''));
      }
      return out;
    },
    async set(values) {
      for (const [key, value] of values) {
        const path = sysctlPath(key, root);
        // No O_CREAT: a missing key is ENOENT naming it, here and in a test's stand-in directory.
        await writeFile(path, value, { flag: constants.O_WRONLY | constants.O_TRUNC }).catch(
          (err: unknown) => {
            throw new SysctlWriteError(key, value, path, errnoOf(err), err);
          },
        );
      }
    },
  };
}
