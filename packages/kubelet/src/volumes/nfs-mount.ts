import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';

/** Where mount(8) looks for the NFS helper (nfs-common / nfs-utils install it). */
const nfsHelpers = ['/sbin/mount.nfs', '/usr/sbin/mount.nfs', '/bin/mount.nfs', '/usr/bin/mount.nfs'];

/** The one mount(8) call upstream's nfs plugin makes, and whether it may be made here. */
export interface NfsMounter {
  /** The NFS helper mount(8) would run, if the host has one. */
  helper(): Promise<string | undefined>;
  /** Runs `mount` with `args`; resolves its combined output and exit code. */
  run(args: string[]): Promise<{ code: number; output: string }>;
}

/** The host's mount(8). */
export const systemNfsMounter: NfsMounter = {
  async helper() {
    for (const path of nfsHelpers) {
      if (
        await access(path).then(
          () => true,
          () => false,
        )
      )
        return path;
    }
    return undefined;
  },
  run(args) {
    return new Promise((resolve) => {
      execFile('mount', args, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  },
};

/**
 * Upstream's nfs plugin SetUp: `mount -t nfs [-o <options>] <server>:<path> <dir>`, its failure worded
 * as mount-utils words it. The mount runs only where it cannot leave the host: without the NFS
 * helper the kernel refuses an NFS mount before any traffic (no server address is passed), and
 * mount(8) prints why — the failure upstream reports on such a host. Where the helper exists the
 * mount would contact the server, so it is not run and the volume fails with that reason instead.
 * Resolves when mounted (never, in practice), rejects with the message upstream's event carries.
 */
export async function mountNfs(
  mounter: NfsMounter,
  source: { server: string; path: string; readOnly?: boolean },
  target: string,
  /** A PersistentVolume's mount options (mountOptionsFromPV); `ro` is added for a read-only volume. */
  mountOptions: string[] = [],
): Promise<void> {
  const helper = await mounter.helper();
  if (helper !== undefined)
    throw new Error(
      `nfs mounts are not made by this kubelet: it never contacts an NFS server (${helper} is installed)`,
    );
  const server = source.server.includes(':') ? `[${source.server}]` : source.server;
  const options = [...new Set([...mountOptions, ...(source.readOnly ? ['ro'] : [])])].sort();
  const args = [
    '-t',
    'nfs',
    ...(options.length > 0 ? ['-o', options.join(',')] : []),
    `${server}:${source.path}`,
    target,
  ];
  const { code, output } = await mounter.run(args);
  if (code === 0) return;
  throw new Error(
    `mount failed: exit status ${code}\nMounting command: mount\nMounting arguments: ${args.join(' ')}\nOutput: ${output}`,
  );
}
