// One TypeDoc module per package, under its npm name: each package's typedoc.config.mjs calls
// packageDocs(import.meta.url), which documents every entry point the package publishes — the
// root and each subpath export (`@nodeagent/kubelet/config`, ...), read from package.json's
// `exports` via the `@nodeagent/source` condition that maps them to TypeScript sources. A subpath
// added to `exports` is documented without touching any TypeDoc file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The source files behind a package.json's exports (package.json itself has none). */
export function sourceEntryPoints(manifest) {
  const exports = manifest.exports ?? {};
  return Object.values(exports)
    .map((target) =>
      typeof target === 'object' && target !== null ? target['@nodeagent/source'] : undefined,
    )
    .filter((source) => typeof source === 'string');
}

/**
 * TypeDoc options for the package whose typedoc.config.mjs is at `configUrl`. The program is the
 * build's (tsconfig.build.json: src only, no project references, other @nodeagent packages from
 * their built `dist` declarations), so `npm run docs` after `npm run build` is enough. With
 * tsconfig.json, whose references send another package's sources to its `out-tsc` declarations,
 * a re-exported class (informer's InvalidOptionError from primitives) was unresolved and
 * undocumented until `tsc -b` had written them (4 warnings on a fresh clone).
 */
export function packageDocs(configUrl) {
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('package.json', configUrl)), 'utf8'));
  return {
    entryPoints: sourceEntryPoints(manifest),
    tsconfig: fileURLToPath(new URL('tsconfig.build.json', configUrl)),
    readme: fileURLToPath(new URL('README.md', configUrl)),
  };
}
