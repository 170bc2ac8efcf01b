import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The trainee (code-cache-trainee.cjs) runs a bundle as the launcher does and writes V8's code
// cache once the app says it started. Here with a small bundle and this test's own Node (the
// build uses the executable's Node 24 and flags; the mechanism is the same V8 API).
const trainee = fileURLToPath(new URL('./code-cache-trainee.cjs', import.meta.url));
const appScript = fileURLToPath(new URL('./app-script.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), `na-code-cache-trainee-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 300 functions the start calls, each with a body worth compiling, then the started event; a
// daemon's timer keeps it running, so only the trainee's exit ends it.
const FUNCTIONS = 300;
const bundle = join(dir, 'app.cjs');
writeFileSync(
  bundle,
  `'use strict';
${Array.from({ length: FUNCTIONS }, (_, i) => `function step${i}(n) { let s = ${i}; for (let j = 0; j < n; j++) s = (s * 31 + j) % 1000003; return s; }`).join('\n')}
let total = 0;
${Array.from({ length: FUNCTIONS }, (_, i) => `total += step${i}(3);`).join('\n')}
module.exports.total = total;
process.emit('nodeagent:started');
setInterval(() => {}, 1000);
`,
);

/** Compiles the bundle as the launcher does, with `cache` if given, in a fresh process with `flags`. */
function load(flags: string[], cache?: string) {
  const probe = `
const vm = require('node:vm');
const { readFileSync, writeFileSync } = require('node:fs');
const { APP_SCRIPT_LINE_OFFSET, appScriptSource } = require(${JSON.stringify(appScript)});
const [bundle, cache, out] = process.argv.slice(1);
const script = new vm.Script(appScriptSource(readFileSync(bundle, 'utf8')), {
  filename: bundle,
  lineOffset: APP_SCRIPT_LINE_OFFSET,
  ...(cache ? { cachedData: readFileSync(cache) } : {}),
});
// Before it runs: the cache of the top level only, what the build made before the training.
if (out) writeFileSync(out, script.createCachedData());
const m = { exports: {} };
script.runInThisContext()(m.exports, require, m, bundle, '.');
process.stdout.write(JSON.stringify({ rejected: script.cachedDataRejected ?? null, total: m.exports.total }));
process.exit(0);
`;
  const topLevel = join(dir, 'top-level.cache');
  const r = spawnSync(process.execPath, [...flags, '-e', probe, bundle, cache ?? '', cache ? '' : topLevel], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  return { ...(JSON.parse(r.stdout) as { rejected: boolean | null; total: number }), topLevel };
}

describe('the code cache trainee', () => {
  const out = join(dir, 'trained.cache');
  let trained: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    trained = spawnSync(process.execPath, [trainee, bundle, out, 'nodeagent:started', '0', '--'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  });

  it('writes the cache once the app emits its started event, and exits 0', () => {
    expect(trained.stderr).toBe('');
    expect(trained.status).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(0);
  });

  it('holds the functions the start compiled: far larger than the cache made before the run', () => {
    const { rejected, total, topLevel } = load([]);
    expect(rejected).toBeNull();
    // Each compiled step function adds its bytecode; the top level holds only their lazy stubs.
    expect(statSync(out).size).toBeGreaterThan(statSync(topLevel).size + FUNCTIONS * 50);
    expect(total).toBeGreaterThan(0);
  });

  it('is taken by the same V8 with the same flags, and the app runs from it', () => {
    const plain = load([]);
    const cached = load([], out);
    expect(cached.rejected).toBe(false);
    expect(cached.total).toBe(plain.total);
  });

  it('is rejected, and the app compiled from its source, under other V8 flags', () => {
    const cached = load(['--expose-gc'], out);
    expect(cached.rejected).toBe(true);
    expect(cached.total).toBe(load([]).total);
  });

  it('refuses an incomplete command line', () => {
    const r = spawnSync(process.execPath, [trainee, bundle, out], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: code-cache-trainee.cjs');
  });

  it('gives the bundle the app arguments after --, as the executable would', () => {
    const args = join(dir, 'args.cjs');
    writeFileSync(
      args,
      `require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'argv.json'))}, JSON.stringify(process.argv.slice(2)));\nprocess.emit('ready');\n`,
    );
    const r = spawnSync(
      process.execPath,
      [trainee, args, join(dir, 'args.cache'), 'ready', '0', '--', '--v=2', 'x'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8'))).toEqual(['--v=2', 'x']);
  });
});
