// The addon behind the launcher's external app source (external-source.c), compiled at build time
// against the headers of the Node runtime the executable carries: its N-API version 10 has
// node_api_create_external_string_latin1 (Node 22.14+, 24).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuildStep } from './build-step.mjs';
import { SeaBuildError } from './sea-build-error.mjs';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'external-source.c');

/** The SEA asset key of the addon. */
export const EXTERNAL_SOURCE_ADDON_ASSET = 'native/external-source.node';

/** Compiles the addon for the runtime at `node` (…/bin/node) into `workDir`; returns its path. */
export function compileExternalSourceAddon(node, workDir) {
  const include = join(dirname(dirname(node)), 'include', 'node');
  if (!existsSync(join(include, 'node_api.h')))
    throw new SeaBuildError(
      'NODE_HEADERS',
      include,
      "no node_api.h beside the runtime (reinstall the build's Node 24)",
    );
  const out = join(workDir, 'external-source.node');
  runBuildStep(
    process.env.CC || 'cc',
    ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-DNAPI_VERSION=10', `-I${include}`, SOURCE, '-o', out],
    'ADDON_COMPILE_FAILED',
    'apt-get install gcc',
  );
  return out;
}
