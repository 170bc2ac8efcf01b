import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper without declarations
import { packageDocs, sourceEntryPoints } from './typedoc-package.mjs';

const packagesDir = fileURLToPath(new URL('../../packages', import.meta.url));
const packages = readdirSync(packagesDir).filter((name) =>
  existsSync(join(packagesDir, name, 'package.json')),
);

describe('TypeDoc: one module per package', () => {
  it('maps exports to their TypeScript sources, skipping package.json', () => {
    const manifest = {
      exports: {
        '.': { '@nodeagent/source': './src/index.ts', import: './dist/index.js' },
        './testing': { '@nodeagent/source': './src/testing/index.ts', import: './dist/testing.js' },
        './package.json': './package.json',
      },
    };
    expect(sourceEntryPoints(manifest)).toEqual(['./src/index.ts', './src/testing/index.ts']);
  });

  it.each(packages)('%s documents every entry point it publishes, each an existing file', (name) => {
    const dir = join(packagesDir, name);
    const config = readFileSync(join(dir, 'typedoc.config.mjs'), 'utf8');
    expect(config).toContain('packageDocs(import.meta.url)');
    const options = packageDocs(new URL(`file://${dir}/typedoc.config.mjs`).href);
    expect(options.entryPoints).toContain('./src/index.ts');
    expect(options.tsconfig).toBe(join(dir, 'tsconfig.build.json'));
    for (const entry of options.entryPoints)
      expect(existsSync(join(dir, entry)), `${name}: ${entry}`).toBe(true);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const npmName = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name as string;
    expect(readme).toContain(`docs/api/modules/${npmName.replace(/[@/]/g, '_')}.html`);
  });

  it('fails the docs build on any warning: every export documented, every referenced type exported, no dead link', () => {
    const config = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../typedoc.json', import.meta.url)), 'utf8'),
    );
    expect(config.treatWarningsAsErrors).toBe(true);
    for (const options of [config, config.packageOptions]) {
      expect(options.validation).toEqual({ notExported: true, invalidLink: true, notDocumented: true });
    }
  });
});
