// Loads the page-release addon (page-release/page-release.c) that build.mjs compiles and embeds in
// each single executable as the SEA asset `native/page-release.node`; heap-trim.cjs calls it.
// Outside a single executable (the apps run by `node`), there is nothing to load.
'use strict';

const ASSET_KEY = 'native/page-release.node';

/**
 * @returns {{ releaseExecutablePages(): number, releaseMallocFree(): boolean } | undefined}
 *   undefined outside a single executable or when the executable carries no addon; a warning
 *   (code NODEAGENT_PAGE_RELEASE) when it carries one that cannot be loaded, since the process
 *   then keeps every page it ever touched.
 */
function loadPageRelease() {
  let sea;
  try {
    sea = require('node:sea');
  } catch {
    return undefined;
  }
  if (!sea.isSea()) return undefined;
  let bytes;
  try {
    bytes = sea.getAsset(ASSET_KEY);
  } catch {
    return undefined;
  }
  const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const { tmpdir } = require('node:os');
  let dir;
  try {
    dir = mkdtempSync(join(tmpdir(), 'nodeagent-page-release-'));
    const file = join(dir, 'page-release.node');
    writeFileSync(file, new Uint8Array(bytes), { mode: 0o500 });
    const m = { exports: {} };
    process.dlopen(m, file);
    return m.exports;
  } catch (err) {
    process.emitWarning(
      `page release unavailable (${err.message}): resident memory will include every page of the executable start-up touched`,
      { code: 'NODEAGENT_PAGE_RELEASE' },
    );
    return undefined;
  } finally {
    // Linux keeps the mapped library after the file is gone.
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { loadPageRelease, ASSET_KEY };
