// The project's own N-API addons (external-source.c, libc-calls.c) are C files compiled at build
// time against the headers of the Node runtime the executable carries.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runBuildStep } from './build-step.mjs';
import { SeaBuildError } from './sea-build-error.mjs';

/**
 * Compiles `source` for the runtime at `node` (…/bin/node) into `out`, with `NAPI_VERSION` set to
 * `napiVersion`; returns `out`.
 */
export function compileAddon(node, source, out, napiVersion) {
  const include = join(dirname(dirname(node)), 'include', 'node');
  if (!existsSync(join(include, 'node_api.h')))
    throw new SeaBuildError(
      'NODE_HEADERS',
      include,
      "no node_api.h beside the runtime (reinstall the build's Node 24)",
    );
  mkdirSync(dirname(out), { recursive: true });
  runBuildStep(
    process.env.CC || 'cc',
    [
      '-O2',
      '-Wall',
      '-Werror',
      '-shared',
      '-fPIC',
      `-DNAPI_VERSION=${napiVersion}`,
      `-I${include}`,
      source,
      '-o',
      out,
    ],
    'ADDON_COMPILE_FAILED',
    'apt-get install gcc',
  );
  return out;
}
