// Loads a native addon that a single executable carries as a SEA asset (the addons of
// native-addons.mjs). process.dlopen needs a file, so the addon is written to a private
// directory, opened and deleted at once (Linux keeps the mapping). Hosts hardened along the CIS
// benchmarks mount /tmp (and /dev/shm) noexec, where dlopen fails ("failed to map segment from
// shared object"): the places are tried in turn.
//
// A file written to tmpfs stays in memory for as long as the addon is mapped, which is the
// process's life: shmem, charged to the agent's cgroup and counted in the working set the kubelet
// and cAdvisor report, with no swap to go to (4.6 MiB for the FFI the executables carried before
// libc-calls.c). On disk the same pages are page cache the kernel reclaims. /tmp is tmpfs on many
// distributions (Debian 13, Fedora, Arch), so places on disk come first.
'use strict';

const { mkdtempSync, rmSync, statfsSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

/** statfs(2) f_type of the filesystems that hold files in memory: TMPFS_MAGIC, RAMFS_MAGIC. */
const MEMORY_BACKED_FS = new Set([0x01021994, 0x858458f6]);

/**
 * Whether `dir` is on tmpfs or ramfs; false when it cannot be read (the load then names why).
 * @param {string} dir
 * @param {(path: string) => { type: number }} statfs
 */
function memoryBacked(dir, statfs = statfsSync) {
  try {
    return MEMORY_BACKED_FS.has(statfs(dir).type);
  } catch {
    return false;
  }
}

/**
 * Where an addon may be written, in order: the temp dir, then places rarely mounted noexec;
 * those on disk before those in memory.
 * @param {(path: string) => { type: number }} [statfs]
 */
function addonDirs(statfs = statfsSync) {
  const dirs = [...new Set([tmpdir(), '/var/tmp', '/dev/shm', '/run', dirname(process.execPath)])];
  const inMemory = dirs.map((dir) => memoryBacked(dir, statfs));
  return [...dirs.filter((_, i) => !inMemory[i]), ...dirs.filter((_, i) => inMemory[i])];
}

/**
 * dlopen()s `bytes` (an addon) from the first of `dirs` that works; throws naming every place
 * tried and why it failed.
 * @param {Uint8Array} bytes
 * @param {string} name file name for the addon (shows in /proc/<pid>/maps)
 * @param {string[]} dirs
 */
function loadAddonBytes(bytes, name, dirs = addonDirs()) {
  const failures = [];
  for (const dir of dirs) {
    let private_;
    try {
      private_ = mkdtempSync(join(dir, 'nodeagent-addon-'));
      const file = join(private_, name);
      writeFileSync(file, bytes, { mode: 0o500 });
      const m = { exports: {} };
      process.dlopen(m, file);
      return m.exports;
    } catch (err) {
      failures.push(`${dir}: ${err.message}`);
    } finally {
      if (private_) rmSync(private_, { recursive: true, force: true });
    }
  }
  throw new Error(`cannot load ${name} (${failures.join('; ')})`);
}

/** Loads the addon stored as SEA asset `assetKey`. */
function loadEmbeddedAddon(assetKey) {
  const { getAsset } = require('node:sea');
  return loadAddonBytes(new Uint8Array(getAsset(assetKey)), assetKey.split('/').pop());
}

module.exports = { addonDirs, loadAddonBytes, loadEmbeddedAddon, memoryBacked };
