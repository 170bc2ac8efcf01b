import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { checkPackage, checkWorkspace, importsOf } from './dependency-imports.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A package directory with this manifest and these src files. */
function fixture(manifest: object, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dependency-imports-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'src', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'src', path), text);
  }
  return dir;
}

describe('dependency-imports', () => {
  it('every workspace package imports exactly what its package.json declares', () => {
    expect(checkWorkspace(root)).toEqual([]);
  });

  it('reads static, side-effect, dynamic, re-export and require specifiers, not strings', () => {
    const text = [
      "import type { V1Pod } from '@kubernetes/client-node';",
      "import 'reflect-metadata';",
      "export { x } from 'yaml/util';",
      "const m = await import('pino');",
      "const c = require('commander');",
      "import { readFile } from 'node:fs';",
      "import { join } from 'path';",
      "import { local } from './local';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the file text holds a template literal
      'const message = `data from "${source}" into`;',
      "run({ args: ['--conditions=@nodeagent/source', '--import', 'tsx'] });",
    ].join('\n');
    expect([...importsOf(text)].sort()).toEqual([
      '@kubernetes/client-node',
      'commander',
      'pino',
      'reflect-metadata',
      'yaml',
    ]);
  });

  it('names a dependency nothing imports and an import nothing declares; tests may use devDependencies', () => {
    const dir = fixture(
      {
        name: '@example/pkg',
        dependencies: { pino: '1.0.0', zod: '1.0.0', '@types/ws': '1.0.0' },
        peerDependencies: { '@kubernetes/client-node': '^1.4.0' },
        devDependencies: { vitest: '1.0.0', yaml: '1.0.0' },
      },
      {
        'index.ts':
          "import { z } from 'zod';\nimport { parse } from 'yaml';\nexport * from '@example/pkg/sub';",
        'nested/api.ts': "import type { V1Pod } from '@kubernetes/client-node';",
        'index.test.ts':
          "import { it } from 'vitest';\nimport pino from 'pino';\nimport fc from 'fast-check';",
      },
    );
    expect(checkPackage(dir)).toEqual([
      { package: '@example/pkg', kind: 'unused', name: 'pino' },
      { package: '@example/pkg', kind: 'undeclared', name: 'yaml' },
    ]);
  });

  it('counts an optional dependency (a native addon loaded lazily) as declared, and as used only if imported', () => {
    const dir = fixture(
      { name: '@example/pkg', optionalDependencies: { netlink: '0.3.0', koffi: '2.0.0' } },
      { 'addon.ts': "export const load = () => import('netlink');" },
    );
    expect(checkPackage(dir)).toEqual([{ package: '@example/pkg', kind: 'unused', name: 'koffi' }]);
  });
});
