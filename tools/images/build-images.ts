import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { readJson, writeImageLayout } from './oci-layout';

const run = promisify(execFile);

/** The sandbox ("pause") image: busybox's `sleep` as PID 1, nothing else. */
export const PAUSE_IMAGE = 'localhost/nodeagent/pause:1.0';
/** A general-purpose image: busybox with every applet linked (sh, httpd, nc, sleep, wget, ...). */
export const BUSYBOX_IMAGE = 'localhost/nodeagent/busybox:1.0';

export interface LocalImage {
  /** Full reference the image is imported under, e.g. `localhost/nodeagent/busybox:1.0`. */
  name: string;
  /** OCI archive (tar) ready for `ctr images import`. */
  archive: string;
  /** Digest of the image manifest (`sha256:...`). */
  manifestDigest: string;
  /** Digest of the image config, which is what CRI reports as the image ID. */
  id: string;
}

export interface LocalImages {
  pause: LocalImage;
  busybox: LocalImage;
}

export interface BuildImagesOptions {
  /** Statically linked busybox to package. Default /bin/busybox (Debian busybox-static). */
  busyboxPath?: string;
  /** Where cached archives live. Default `<tmpdir>/nodeagent-images-<busybox sha256 prefix>`. */
  cacheDir?: string;
}

async function fileSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reproducible tar of a directory: sorted names, zero mtimes and numeric root ownership. */
export async function tarDirectory(dir: string, out: string, entries: string[]): Promise<void> {
  await run('tar', [
    '--create',
    `--file=${out}`,
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    `--directory=${dir}`,
    ...entries,
  ]);
}

interface RootfsPlan {
  /** Files copied from the busybox binary (path inside the image). */
  binaries: string[];
  /** Symlinks (path inside the image → target). */
  links: Array<[string, string]>;
  /** Plain files with content. */
  files: Array<[string, string]>;
  dirs: string[];
}

async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await run(busybox, ['--list-full']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

async function buildRootfs(root: string, busybox: string, plan: RootfsPlan): Promise<void> {
  for (const d of plan.dirs) await mkdir(join(root, d), { recursive: true });
  for (const b of plan.binaries) {
    await mkdir(dirname(join(root, b)), { recursive: true });
    await copyFile(busybox, join(root, b));
    await chmod(join(root, b), 0o755);
  }
  for (const [path, target] of plan.links) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(target, join(root, path));
  }
  for (const [path, content] of plan.files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await chmod(join(root, 'tmp'), 0o1777);
}

async function buildOne(
  workDir: string,
  busybox: string,
  name: string,
  plan: RootfsPlan,
  config: { entrypoint?: string[]; cmd?: string[] },
  archive: string,
): Promise<LocalImage> {
  const base = name.replace(/[^a-z0-9]+/gi, '-');
  const root = join(workDir, `${base}-rootfs`);
  const layout = join(workDir, `${base}-layout`);
  await buildRootfs(root, busybox, plan);
  const layerPath = join(workDir, `${base}-layer.tar`);
  await tarDirectory(root, layerPath, ['.']);
  const digests = await writeImageLayout(layout, name, await readFile(layerPath), config);
  // Write next to the final path and rename, so a concurrent builder never sees half an archive.
  const partial = `${archive}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  await tarDirectory(layout, partial, ['oci-layout', 'index.json', 'blobs']);
  await rename(partial, archive);
  const metaPartial = `${archive}.json.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  await writeFile(
    metaPartial,
    JSON.stringify({ name, manifestDigest: digests.manifestDigest, id: digests.configDigest }),
  );
  await rename(metaPartial, `${archive}.json`);
  return { name, archive, manifestDigest: digests.manifestDigest, id: digests.configDigest };
}

const ETC_FILES: Array<[string, string]> = [
  ['etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'],
  ['etc/group', 'root:x:0:\nnogroup:x:65534:\n'],
  ['var/www/index.html', 'nodeagent busybox image\n'],
];

/**
 * Build (or reuse from the cache) the pause and busybox OCI archives from the local busybox-static
 * binary. The cache key is busybox's sha256, so a busybox upgrade rebuilds and repeated test runs
 * only pay for a few stat() calls.
 */
export async function buildImages(opts: BuildImagesOptions = {}): Promise<LocalImages> {
  const busybox = opts.busyboxPath ?? '/bin/busybox';
  const hash = await fileSha256(busybox);
  const cacheDir = opts.cacheDir ?? join(tmpdir(), `nodeagent-images-${hash.slice(0, 16)}`);
  await mkdir(cacheDir, { recursive: true });
  const pauseArchive = join(cacheDir, 'pause.oci.tar');
  const busyboxArchive = join(cacheDir, 'busybox.oci.tar');

  const cached = async (archive: string): Promise<LocalImage | undefined> => {
    if (!(await exists(archive)) || !(await exists(`${archive}.json`))) return undefined;
    try {
      const meta = await readJson<Omit<LocalImage, 'archive'>>(`${archive}.json`);
      return { ...meta, archive };
    } catch {
      return undefined; // unreadable metadata: rebuild
    }
  };

  let pause = await cached(pauseArchive);
  let bb = await cached(busyboxArchive);
  if (pause && bb) return { pause, busybox: bb };

  const workDir = await mkdtemp(join(tmpdir(), 'na-images-build-'));
  try {
    if (!pause) {
      pause = await buildOne(
        workDir,
        busybox,
        PAUSE_IMAGE,
        { binaries: ['bin/sleep'], links: [], files: [], dirs: ['tmp', 'proc', 'sys', 'dev', 'etc'] },
        // busybox picks the applet from argv[0], so a copy named `sleep` is the whole pause image.
        { entrypoint: ['/bin/sleep', '2147483647'] },
        pauseArchive,
      );
    }
    if (!bb) {
      const applets = (await busyboxApplets(busybox)).filter((p) => p !== 'bin/busybox');
      bb = await buildOne(
        workDir,
        busybox,
        BUSYBOX_IMAGE,
        {
          binaries: ['bin/busybox'],
          links: applets.map((p) => [p, '/bin/busybox'] as [string, string]),
          files: ETC_FILES,
          dirs: ['tmp', 'proc', 'sys', 'dev', 'root', 'var/www', 'usr/bin', 'usr/sbin', 'sbin'],
        },
        { cmd: ['sh'] },
        busyboxArchive,
      );
    }
    return { pause, busybox: bb };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Import archives into containerd's `k8s.io` namespace (the one the CRI plugin serves), over the
 * given containerd socket address.
 */
export async function importImages(address: string, images: LocalImage[]): Promise<void> {
  for (const image of images) {
    await run('ctr', [
      '--address',
      address,
      '--namespace',
      'k8s.io',
      'images',
      'import',
      '--no-unpack',
      image.archive,
    ]);
  }
}
