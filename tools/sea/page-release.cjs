// Loads the page-release addon (page-release/page-release.c) that build.mjs compiles and embeds in
// each single executable as the SEA asset `native/page-release.node`; heap-trim.cjs calls it.
// Outside a single executable (the apps run by `node`), there is nothing to load.
'use strict';

const { loadAddonBytes } = require('./embedded-addon.cjs');

const ASSET_KEY = 'native/page-release.node';

/**
 * @returns {{ releaseExecutablePages(): number, evictExecutableCache(): number, executableInLargeFolios(): boolean | null, releaseMallocFree(): boolean } | undefined}
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
    return undefined; // built with pageRelease: false
  }
  try {
    return loadAddonBytes(new Uint8Array(bytes), 'page-release.node');
  } catch (err) {
    process.emitWarning(
      `page release unavailable: ${err.message}; resident memory will include every page of the executable start-up touched`,
      { code: 'NODEAGENT_PAGE_RELEASE' },
    );
    return undefined;
  }
}

module.exports = { loadPageRelease, ASSET_KEY };
