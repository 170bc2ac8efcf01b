import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEntry } from '../../../tools/bundle/bundle-entry';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const appDir = join(repoRoot, 'apps', 'hollow-node');

/**
 * A bench's runs against the bundled nodeagent-hollow-node entry (what its release ships, with
 * this package's version): `measure` runs once per shape, in turn (they share two cores), with
 * the bundle's path; the runs go to bench-results/<resultsName>.json, and the bundle is removed
 * whatever happens.
 */
export async function runBundled<S, R>(
  resultsName: string,
  shapes: readonly S[],
  measure: (cli: string, shape: S) => Promise<R>,
): Promise<void> {
  const { version } = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string };
  const bundle = bundleEntry(join(appDir, 'src', 'cli.ts'), {
    __NODEAGENT_VERSION__: JSON.stringify(version),
  });
  try {
    const runs: R[] = [];
    for (const shape of shapes) runs.push(await measure(bundle.file, shape));
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(
      join(repoRoot, 'bench-results', `${resultsName}.json`),
      `${JSON.stringify({ date: new Date().toISOString(), runs }, null, 2)}\n`,
    );
  } finally {
    bundle.dispose();
  }
}
