// The addon the executables answer `import('koffi')` with (libc-calls.c behind koffi-subset.cjs),
// compiled at build time against the headers of the Node runtime the executable carries.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAddon } from './addon-compile.mjs';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'libc-calls.c');

/** The SEA asset key of the addon. */
export const LIBC_CALLS_ADDON_ASSET = 'native/libc-calls.node';

/** Compiles libc-calls.c for the runtime at `node` (…/bin/node) into `workDir`; returns its path. */
export function compileLibcCallsAddon(node, workDir) {
  return compileAddon(node, SOURCE, join(workDir, 'libc-calls.node'), 8);
}
