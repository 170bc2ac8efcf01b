import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleEntry, sweepBundles } from './bundle-entry';
import { CODE_CACHE_REPORT_ENV } from './code-cache';

const dir = mkdtempSync(join(tmpdir(), `na-bundle-sweep-test-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sweepBundles', () => {
  it("removes the bundles of processes that have gone and keeps live processes' and anything else", () => {
    // A process that has exited: its pid names no live process.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(gone.stdout);
    for (const name of [
      `na-bundle-${deadPid}-aaaa`,
      `na-bundle-${process.pid}-bbbb`,
      'na-bundle-x-cccc',
      'other',
    ])
      mkdirSync(join(dir, name));
    expect(sweepBundles(dir)).toEqual([`na-bundle-${deadPid}-aaaa`]);
    expect(readdirSync(dir).sort()).toEqual(
      [`na-bundle-${process.pid}-bbbb`, 'na-bundle-x-cccc', 'other'].sort(),
    );
    expect(existsSync(join(dir, `na-bundle-${deadPid}-aaaa`))).toBe(false);
  });
});

describe('bundleEntry with a code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), `na-code-cache-test-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // An entry that uses what its ESM bundle gave it: a #! line, import.meta.url, node: imports, an
  // import() of a computed specifier (as a scenario loads containerd's bundle), argv and strict
  // mode; it prints what it saw.
  const entry = join(dir, 'cached-entry.ts');
  writeFileSync(
    entry,
    [
      '#!/usr/bin/env node',
      "import { basename } from 'node:path';",
      "const specifier = ['node', 'os'].join(':');",
      'const strict = (function (this: unknown) { return this === undefined; })();',
      'import(specifier).then((os: { EOL: string }) => console.log(JSON.stringify({',
      '  url: basename(new URL(import.meta.url).pathname), args: process.argv.slice(2), eol: os.EOL, strict,',
      '})));',
    ].join('\n'),
  );
  const bundle = bundleEntry(entry, {}, { codeCache: true });
  afterAll(() => bundle.dispose());
  const run = () =>
    spawnSync(process.execPath, [bundle.file, 'a', '--b'], {
      encoding: 'utf8',
      env: { ...process.env, [CODE_CACHE_REPORT_ENV]: '1' },
    });
  const cacheFile = () => {
    const name = readdirSync(dirname(bundle.file)).find((f) => f.endsWith('.v8cache'));
    if (!name) throw new Error('no .v8cache beside the bundle');
    return join(dirname(bundle.file), name);
  };
  const expected = { url: 'entry.mjs', args: ['a', '--b'], eol: '\n', strict: true };

  it('runs the entry through its loader, and V8 accepts the cache the host made', () => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(r.stderr).toMatch(/^code cache accepted .*body\.cjs$/m);
  });

  it('runs the same without the cache when V8 rejects it or it is missing', () => {
    const file = cacheFile();
    writeFileSync(file, Buffer.alloc(64, 1));
    const rejected = run();
    expect(rejected.status, rejected.stderr).toBe(0);
    expect(JSON.parse(rejected.stdout)).toEqual(expected);
    expect(rejected.stderr).toMatch(/^code cache rejected /m);
    rmSync(file);
    const missing = run();
    expect(missing.status, missing.stderr).toBe(0);
    expect(JSON.parse(missing.stdout)).toEqual(expected);
    expect(missing.stderr).toMatch(/^code cache missing /m);
  });
});
