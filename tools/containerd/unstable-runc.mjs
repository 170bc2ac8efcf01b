// runc 1.3 from Debian unstable, for user namespaces (`hostUsers: false`) on containerd 2.1:
// containerd's CRI plugin offers them only when the runtime's `runc features` lists the user
// namespace and idmapped mounts, which stable's runc 1.1 cannot do (and stable's crun 1.8 has no
// `features` command at all). Unstable's runc is linked against glibc 2.38+ (Debian 12 has 2.36),
// so its package is unpacked beside unstable's libc6 (not installed) and patchelf points the
// binary's ELF interpreter and library path at that C library: runc re-executes itself through
// /proc/self/exe for `runc init`, so a wrapper calling ld.so by hand would not survive that.
// Plain JavaScript: tools/install-deps.mjs runs it with plain node, before any npm dependency.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { privateUnstableApt } from './unstable-containerd.mjs';

/** Where runc and its C library are unpacked: `<dir>/usr/sbin/runc`, `<dir>/libc/…`. */
export const RUNC_UNSTABLE_CACHE = '/var/cache/nodeagent/runc-1.3';
/** The runc series tools/containerd's `runc: '1.3'` stands for. */
export const RUNC_UNSTABLE_SERIES = '1.3';

/** The patched runc binary containerd's runc shim runs (its `BinaryName`). */
export function unstableRuncPath(dir = RUNC_UNSTABLE_CACHE) {
  return join(dir, 'usr', 'sbin', 'runc');
}

/** The directory of the unpacked C library (loader and libc.so.6) runc is pointed at. */
export function unstableLibcDir(dir = RUNC_UNSTABLE_CACHE) {
  return join(dir, 'libc', 'usr', 'lib', 'x86_64-linux-gnu');
}

export function runcUnstablePresent(dir = RUNC_UNSTABLE_CACHE) {
  return existsSync(unstableRuncPath(dir)) && existsSync(join(unstableLibcDir(dir), 'libc.so.6'));
}

export class RuncFetchError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RuncFetchError';
  }
}

function downloadAndPatch(work, log) {
  const { uri, candidate, unpack } = privateUnstableApt(work, RuncFetchError);
  const runc = candidate('runc');
  const libc = candidate('libc6');
  if (!runc || !libc) throw new RuncFetchError(`${uri} unstable lists no runc or libc6 package`);
  if (!runc.startsWith(`${RUNC_UNSTABLE_SERIES}.`))
    throw new RuncFetchError(
      `Debian unstable now carries runc ${runc}, not ${RUNC_UNSTABLE_SERIES}.x (RUNC_UNSTABLE_SERIES in tools/containerd/unstable-runc.mjs)`,
    );
  log(
    `install-deps: unpacking runc ${runc} and libc6 ${libc} (Debian unstable) into ${RUNC_UNSTABLE_CACHE} (not installed)`,
  );
  const tree = join(work, 'tree');
  unpack(`runc=${runc}`, tree);
  unpack(`libc6=${libc}`, join(tree, 'libc'));
  // The final paths: the tree is moved to RUNC_UNSTABLE_CACHE whole after patching.
  const libDir = unstableLibcDir();
  execFileSync('patchelf', [
    '--set-interpreter',
    join(libDir, 'ld-linux-x86-64.so.2'),
    '--set-rpath',
    libDir,
    unstableRuncPath(tree),
  ]);
  writeFileSync(join(tree, 'VERSION'), `runc ${runc}\nlibc6 ${libc}\n`);
  return tree;
}

/**
 * Downloads Debian unstable's runc and libc6 with the private apt configuration of
 * unstable-containerd.mjs, unpacks both into RUNC_UNSTABLE_CACHE (published with one rename) and
 * points runc at that libc. Throws RuncFetchError.
 */
export function unpackUnstableRunc(log = console.log) {
  mkdirSync(dirname(RUNC_UNSTABLE_CACHE), { recursive: true });
  const work = mkdtempSync(join(dirname(RUNC_UNSTABLE_CACHE), 'na-unstable-runc-'));
  try {
    const tree = downloadAndPatch(work, log);
    rmSync(RUNC_UNSTABLE_CACHE, { recursive: true, force: true });
    renameSync(tree, RUNC_UNSTABLE_CACHE);
    // Runnable only at its final path (the interpreter path points there); a tree that does not
    // run is removed, so the next install-deps fetches it again.
    try {
      execFileSync(unstableRuncPath(), ['--version'], { stdio: 'ignore' });
    } catch (e) {
      rmSync(RUNC_UNSTABLE_CACHE, { recursive: true, force: true });
      throw new RuncFetchError(`the unpacked runc does not run: ${e.message}`);
    }
  } catch (e) {
    if (e instanceof RuncFetchError) throw e;
    throw new RuncFetchError(`fetching runc from Debian unstable failed: ${e.message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
