/**
 * `--journalled-ext4`: the soak's directories (the agents', containerd's: all it makes under
 * TMPDIR) on a new ext4 with a journal, as a node's /var/lib/kubelet usually is, in place of the
 * file system TMPDIR is on. Each pod's directories are file-system metadata charged to the
 * kubelet's cgroup, and on an ext4 without a journal (as this project's lab machine's root is) a
 * deleted inode stays unused for 5-35 s, so pod churn keeps reaching inode-table blocks not cached
 * before (file-system-note.ts, docs/performance/kubelet.md "The soak").
 *
 * The image is a sparse file as large as the file system it stands in for (as many block groups
 * for the allocator to spread over), in a `<tmpdir>/na-soak-fs-*` directory the outer run removes.
 * The bench runs again under `unshare --mount --propagation private`; that inner run mounts the
 * image through a loop device with autoclear, so nothing is mounted on the host, and the mount and
 * its loop device go when the mount namespace's last process exits, even after a kill.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from '../run-child.mjs';

/** Set in the inner run: the image it is to mount. */
export const IMAGE_ENV = 'NA_SOAK_EXT4_IMAGE';

/** A tool the option needs is missing or failed: what it said. */
export class JournalledExt4Error extends Error {
  override readonly name = 'JournalledExt4Error';
}

/** Bytes of the file system holding `path`. */
export function fileSystemBytes(path: string): number {
  const s = statfsSync(path);
  return s.blocks * s.bsize;
}

/**
 * The mkfs.ext4 arguments for a throwaway image: a journal (mkfs.ext4's default, named so it
 * cannot be lost to a local mke2fs.conf), inode tables and journal left to read as the sparse
 * file's zeros rather than written, and no discard of a file that holds nothing yet.
 */
export function mkfsArguments(image: string): string[] {
  return ['-q', '-F', '-O', 'has_journal', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', image];
}

/** A sparse `bytes`-long image at `image`, made an ext4 with a journal. */
export function makeJournalledImage(image: string, bytes: number): void {
  writeFileSync(image, '');
  truncateSync(image, bytes - (bytes % 4096));
  run('mkfs.ext4', mkfsArguments(image), 'apt-get install e2fsprogs');
}

/**
 * The outer run: makes the image, runs the same command again in a mount namespace of its own
 * with IMAGE_ENV set, passes on SIGINT and SIGTERM, removes the image, and returns the inner
 * run's exit code.
 */
export async function rerunOnJournalledExt4(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'na-soak-fs-'));
  try {
    const image = join(dir, 'ext4.img');
    makeJournalledImage(image, fileSystemBytes(dir));
    const args = [
      '--mount',
      '--propagation',
      'private',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ];
    const env = { ...process.env, [IMAGE_ENV]: image };
    const inner = await runChild('unshare', args, { env }).catch((e: Error) => {
      throw new JournalledExt4Error(`unshare: ${e.message}: apt-get install util-linux`);
    });
    return inner.status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The inner run: mounts the image beside it and points TMPDIR there, so every directory made
 * through os.tmpdir() from here on is on it. Returns the mount point.
 */
export function mountImageAsTmpdir(image: string): string {
  const point = join(image, '..', 'mnt');
  mkdirSync(point, { recursive: true });
  run('mount', ['-o', 'loop,noinit_itable', image, point], 'a loop device (modprobe loop) and util-linux');
  process.env.TMPDIR = point;
  return point;
}

/** Unmounts what mountImageAsTmpdir mounted; the loop device clears itself. */
export function unmountImage(point: string): void {
  run('umount', ['--lazy', point], 'util-linux');
}

function run(command: string, args: string[], remedy: string): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) throw new JournalledExt4Error(`${command}: ${r.error.message}: ${remedy}`);
  if (r.status !== 0)
    throw new JournalledExt4Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
}
