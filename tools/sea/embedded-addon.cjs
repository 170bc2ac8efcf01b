// Loads a native addon that a single executable carries as a SEA asset (the prebuilt addons of
// native-addons.mjs). process.dlopen needs a file,
// so the addon is written to a private directory, opened and deleted at once (Linux keeps the
// mapping). Hosts hardened along the CIS benchmarks mount /tmp (and /dev/shm) noexec, where
// dlopen fails ("failed to map segment from shared object"): the places are tried in turn.
'use strict';

const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

/** Where an addon may be written, in order: the temp dir, then places rarely mounted noexec. */
function addonDirs() {
  return [...new Set([tmpdir(), '/dev/shm', '/run', dirname(process.execPath)])];
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

module.exports = { addonDirs, loadAddonBytes, loadEmbeddedAddon };
