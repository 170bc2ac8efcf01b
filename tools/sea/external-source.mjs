// The addon behind the launcher's external app source (external-source.c), compiled at build time
// against the headers of the Node runtime the executable carries: its N-API version 10 has
// node_api_create_external_string_latin1 (Node 22.14+, 24).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAddon } from './addon-compile.mjs';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'external-source.c');

/** The SEA asset key of the addon. */
export const EXTERNAL_SOURCE_ADDON_ASSET = 'native/external-source.node';

/** Compiles the addon for the runtime at `node` (…/bin/node) into `workDir`; returns its path. */
export function compileExternalSourceAddon(node, workDir) {
  return compileAddon(node, SOURCE, join(workDir, 'external-source.node'), 10);
}
