import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { firstExample, importOnlyExample, runnableExample } from './consumer.mjs';

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
});
