import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allExamples,
  diagnosticsByExample,
  firstExample,
  importOnlyExample,
  runnableExample,
  THIRD_PARTY,
  typescriptConfig,
  // @ts-expect-error: a plain .mjs script without declarations
} from './consumer.mjs';
// @ts-expect-error: a plain .mjs script without declarations
import { installedPackages, withInstallFieldsOf } from './footprint.mjs';

const dir = mkdtempSync(join(tmpdir(), 'consumer-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a generated example file with this Node; returns its exit status and output. */
function run(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const readme = [
  '# pkg',
  '```sh',
  'npm install pkg',
  '```',
  '```ts',
  "import { join, type ParsedPath } from 'node:path';",
  "import type { Stats } from 'node:fs';",
  "const parts: string[] = ['a', 'b'];",
  'await new Promise((r) => setTimeout(r, 1));',
  'console.log(join(...parts));',
  '```',
  '```ts',
  "console.log('second');",
  '```',
].join('\n');

describe('consumer test helpers', () => {
  it('takes the first TypeScript block of a README', () => {
    expect(firstExample(readme)).toMatch(
      /^import \{ join, type ParsedPath \}[\s\S]*join\(\.\.\.parts\)\);\n$/,
    );
    expect(firstExample('# none\n```sh\nls\n```\n')).toBeUndefined();
  });

  it('runs an example with types and top-level await as ESM and as CommonJS', () => {
    const { esm, cjs } = runnableExample(firstExample(readme));
    expect(run('ok.mjs', esm)).toEqual({ status: 0, out: 'a/b\n' });
    expect(run('ok.cjs', cjs)).toEqual({ status: 0, out: 'a/b\n' });
  });

  it('fails, and exits, when the example throws', () => {
    const { esm, cjs } = runnableExample(
      "import { createServer } from 'node:http';\nconst s = createServer().listen(0, '127.0.0.1');\nawait new Promise((r) => s.once('listening', r));\nthrow new Error('boom');\n",
    );
    expect(run('boom.mjs', esm)).toMatchObject({ status: 1, out: expect.stringContaining('boom') });
    expect(run('boom.cjs', cjs)).toMatchObject({ status: 1, out: expect.stringContaining('boom') });
  });

  it('import-only: loads each module and checks each named value, not type imports', () => {
    const ok = importOnlyExample(firstExample(readme));
    expect(run('imports.mjs', ok.esm)).toEqual({ status: 0, out: 'imported 1 modules\n' });
    expect(run('imports.cjs', ok.cjs)).toEqual({ status: 0, out: 'imported 1 modules\n' });
    const missing = importOnlyExample("import { join, nothingHere } from 'node:path';\n");
    expect(run('missing.mjs', missing.esm).out).toContain('node:path has no export nothingHere');
    expect(run('missing.cjs', missing.cjs).status).toBe(1);
  });

  it('takes every TypeScript/JavaScript block of a README, in order', () => {
    const examples = allExamples(readme);
    expect(examples).toHaveLength(2);
    expect(examples[0]).toBe(firstExample(readme));
    expect(examples[1]).toBe("console.log('second');\n");
    expect(allExamples('# none\n```sh\nls\n```\n')).toEqual([]);
  });

  it('type-checks strictly, with the declaration files, for nodenext and for a bundler', () => {
    expect(typescriptConfig('nodenext').compilerOptions).toMatchObject({
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      skipLibCheck: false,
    });
    expect(typescriptConfig('bundler').compilerOptions).toMatchObject({
      module: 'esnext',
      moduleResolution: 'bundler',
    });
  });

  it("files tsc's diagnostics under their example, ours elsewhere as failures, other packages' apart", () => {
    const byFile = diagnosticsByExample(
      [
        "typecheck/informer-2.ts(3,7): error TS2304: Cannot find name 'kubeConfig'.",
        'typecheck/kubelet-1.ts(12,29): error TS2345: Argument of type ... is not assignable',
        "  Property 'memoryCapacity' is missing",
        "node_modules/@nodeagent/kubelet/dist/index.d.ts(1,1): error TS2307: Cannot find module './gone'.",
        "node_modules/@peculiar/x509/build/index.d.ts(9,9): error TS2304: Cannot find name 'CryptoKey'.",
        '',
      ].join('\n'),
    );
    expect(byFile.get('informer-2')).toHaveLength(1);
    expect(byFile.get('kubelet-1')).toEqual([
      'typecheck/kubelet-1.ts(12,29): error TS2345: Argument of type ... is not assignable',
      "  Property 'memoryCapacity' is missing",
    ]);
    expect(byFile.get('')?.[0]).toContain('@nodeagent/kubelet');
    expect(byFile.get(THIRD_PARTY)?.[0]).toContain('@peculiar/x509');
  });
});

describe('install footprint helpers', () => {
  it('takes the install fields of an earlier manifest and keeps the rest', () => {
    expect(
      withInstallFieldsOf(
        { name: 'p', version: '2', dependencies: { a: '1' }, peerDependencies: { b: '1' }, files: ['dist'] },
        { name: 'p', version: '1', dependencies: { a: '0', x: '1' } },
      ),
    ).toEqual({ name: 'p', version: '2', dependencies: { a: '0', x: '1' }, files: ['dist'] });
  });

  it('counts installed packages: scoped and nested, not dot folders', () => {
    const nm = join(dir, 'fp', 'node_modules');
    for (const p of ['a', '@s/b', 'a/node_modules/c', '.bin', '.package-lock'])
      mkdirSync(join(nm, p), { recursive: true });
    expect(
      installedPackages(nm)
        .map((p: string) => p.slice(nm.length + 1))
        .sort(),
    ).toEqual(['@s/b', 'a', 'a/node_modules/c']);
  });
});
