// The kube-proxy OCI image: the nodeagent-kube-proxy single executable (also reachable as
// upstream's /usr/local/bin/kube-proxy) on a minimal root filesystem holding only what the
// proxier execs (iptables/ip6tables in nft and legacy flavours, nft, ipset, ipvsadm,
// modprobe) with their shared libraries and xtables extensions, copied from this host's Debian
// packages. tools/images builds busybox images only, so the layer
// is assembled here and laid out with its OCI writer.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { tarDirectory } from '../images/build-images';
import { writeImageLayout } from '../images/oci-layout';

const run = promisify(execFile);

export const KUBE_PROXY_IMAGE_REPOSITORY = 'localhost/nodeagent/kube-proxy';

/** Where upstream's image (and so kubeadm's DaemonSet command) has the kube-proxy binary. */
export const KUBE_PROXY_UPSTREAM_PATH = 'usr/local/bin/kube-proxy';

/** Image build failures carry the offending path. */
export class ImageBuildError extends Error {
  constructor(
    readonly code: 'BINARY_MISSING' | 'LDD_FAILED',
    readonly value: string,
    reason: string,
  ) {
    super(`${code}: ${reason} (${value})`);
    this.name = 'ImageBuildError';
  }
}

/** Executables taken from the host, with the names they are also reachable under in the image. */
export const HOST_TOOLS: Array<{ path: string; links: string[] }> = [
  {
    // iptables 1.8 nft backend, the default on current distributions and what upstream picks.
    path: '/usr/sbin/xtables-nft-multi',
    links: [
      'iptables',
      'iptables-save',
      'iptables-restore',
      'ip6tables',
      'ip6tables-save',
      'ip6tables-restore',
      'iptables-nft',
      'iptables-nft-save',
      'iptables-nft-restore',
      'ip6tables-nft',
      'ip6tables-nft-save',
      'ip6tables-nft-restore',
    ],
  },
  {
    // For nodes whose other components still program legacy xtables.
    path: '/usr/sbin/xtables-legacy-multi',
    links: [
      'iptables-legacy',
      'iptables-legacy-save',
      'iptables-legacy-restore',
      'ip6tables-legacy',
      'ip6tables-legacy-save',
      'ip6tables-legacy-restore',
    ],
  },
  { path: '/usr/sbin/nft', links: [] },
  { path: '/usr/sbin/ipset', links: [] },
  { path: '/usr/sbin/ipvsadm', links: [] },
  { path: '/usr/bin/kmod', links: ['../sbin/modprobe', '../sbin/lsmod'] },
  // No sysctl: the daemon reads and writes /proc/sys itself (procSysctlLayer), as upstream does.
];

/** iptables loads its match/target extensions from here at run time (dlopen, so ldd misses them). */
const XTABLES_DIR = '/usr/lib/x86_64-linux-gnu/xtables';

export interface KubeProxyImage {
  name: string;
  archive: string;
  manifestDigest: string;
  id: string;
  /** Root filesystem paths in the layer (for inspection). */
  files: string[];
}

export interface BuildKubeProxyImageOptions {
  /** The nodeagent-kube-proxy single executable (tools/sea/build.mjs output). */
  binary: string;
  /** Image tag, normally the nodeagent-kube-proxy version. */
  tag: string;
  /** Where the OCI archive goes. */
  outDir: string;
  /** Keep the unpacked root filesystem here instead of deleting it (tests chroot into it). */
  rootfsDir?: string;
}

/** Shared libraries an ELF file needs, as absolute host paths (the loader included). */
export async function sharedLibraries(file: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [file]));
  } catch (err) {
    throw new ImageBuildError('LDD_FAILED', file, (err as Error).message);
  }
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** Copy a host file into the rootfs at its canonical (merged-/usr) location; returns that path. */
async function copyHostFile(root: string, hostPath: string): Promise<string> {
  // Debian merges /usr: /lib is a symlink to usr/lib, so place files under their real directory
  // and recreate the same top-level symlinks in the image.
  const inImage = join(await realpath(dirname(hostPath)), basename(hostPath));
  await mkdir(join(root, dirname(inImage)), { recursive: true });
  await copyFile(await realpath(hostPath), join(root, inImage));
  return inImage;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function listFiles(root: string, dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(`/${rel}`);
  }
  return out.sort();
}

/** Assemble the root filesystem in `root` (empty directory). */
export async function assembleRootfs(root: string, binary: string): Promise<void> {
  if (!(await exists(binary)))
    throw new ImageBuildError('BINARY_MISSING', binary, 'build it with tools/sea/build.mjs');
  for (const d of [
    'usr/bin',
    'usr/sbin',
    'usr/lib',
    'usr/lib64',
    'usr/local/bin',
    'etc',
    'tmp',
    'run',
    'proc',
    'sys',
    'dev',
    'var/lib/kube-proxy',
  ]) {
    await mkdir(join(root, d), { recursive: true });
  }
  await chmod(join(root, 'tmp'), 0o1777);
  for (const [link, target] of [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
  ] as const) {
    await symlink(target, join(root, link));
  }

  const elfFiles: string[] = [binary];
  await copyFile(binary, join(root, 'usr/local/bin/nodeagent-kube-proxy'));
  await chmod(join(root, 'usr/local/bin/nodeagent-kube-proxy'), 0o755);
  // Upstream's path: kubeadm's DaemonSet runs `/usr/local/bin/kube-proxy --config=… --hostname-override=…`,
  // so swapping the image alone is enough.
  await symlink('nodeagent-kube-proxy', join(root, KUBE_PROXY_UPSTREAM_PATH));
  for (const tool of HOST_TOOLS) {
    if (!(await exists(tool.path)))
      throw new ImageBuildError('BINARY_MISSING', tool.path, 'install the Debian package');
    const inImage = await copyHostFile(root, tool.path);
    elfFiles.push(tool.path);
    for (const link of tool.links) {
      const linkPath = join(root, dirname(inImage), link);
      await mkdir(dirname(linkPath), { recursive: true });
      await symlink(
        link.includes('/') ? join('..', basename(dirname(inImage)), basename(inImage)) : basename(inImage),
        linkPath,
      );
    }
  }
  for (const plugin of (await readdir(XTABLES_DIR)).filter((f) => f.endsWith('.so'))) {
    await copyHostFile(root, join(XTABLES_DIR, plugin));
    elfFiles.push(join(XTABLES_DIR, plugin));
  }
  const libraries = new Set<string>();
  for (const file of elfFiles) for (const lib of await sharedLibraries(file)) libraries.add(lib);
  for (const lib of libraries) await copyHostFile(root, lib);

  // getprotobyname/getservbyname for `-p tcp` and friends.
  for (const f of ['/etc/protocols', '/etc/services', '/etc/ethertypes']) {
    if (await exists(f)) await copyFile(await realpath(f), join(root, f));
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n');
}

/**
 * Build `localhost/nodeagent/kube-proxy:<tag>` as an OCI archive
 * (`<outDir>/nodeagent-kube-proxy-<tag>.oci.tar`, ready for `ctr images import`).
 */
export async function buildKubeProxyImage(opts: BuildKubeProxyImageOptions): Promise<KubeProxyImage> {
  const name = `${KUBE_PROXY_IMAGE_REPOSITORY}:${opts.tag}`;
  const work = await mkdtemp(join(tmpdir(), 'na-kube-proxy-image-'));
  const root = opts.rootfsDir ?? join(work, 'rootfs');
  try {
    await mkdir(root, { recursive: true });
    await assembleRootfs(root, opts.binary);
    const layer = join(work, 'layer.tar');
    await tarDirectory(root, layer, ['.']);
    const layout = join(work, 'layout');
    const digests = await writeImageLayout(layout, name, await readFile(layer), {
      entrypoint: ['/usr/local/bin/nodeagent-kube-proxy'],
    });
    await mkdir(opts.outDir, { recursive: true });
    const archive = join(opts.outDir, `nodeagent-kube-proxy-${opts.tag}.oci.tar`);
    const partial = `${archive}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
    await tarDirectory(layout, partial, ['oci-layout', 'index.json', 'blobs']);
    await rename(partial, archive);
    return {
      name,
      archive,
      manifestDigest: digests.manifestDigest,
      id: digests.configDigest,
      files: await listFiles(root),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
