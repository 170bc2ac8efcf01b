import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { targetExecArgv } from './build.mjs';
import { ensureNode24 } from './node-runtime.mjs';
import { seaTargets } from './targets.mjs';

// With the executables' own Node 24 (tools/sea/node-runtime.mjs), whose V8 this is about.
const node = ensureNode24().node;
const exposeGcPath = fileURLToPath(new URL('./expose-gc.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), `na-expose-gc-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `body` in a fresh Node 24 with `flags`; `exposeGc`, `vm` and `fs` are in scope; returns what it returned. */
function run(body: string, flags: string[] = []): unknown {
  const script = `const vm = require('node:vm'); const fs = require('node:fs');
const { exposeGc } = require(${JSON.stringify(exposeGcPath)});
(async () => { ${body} })().then((r) => process.stdout.write(JSON.stringify(r)));`;
  const r = spawnSync(node, [...flags, '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

const PROBE = `const source = 'function f(a) { return a + 1; }\\nf(1);';`;
/** Makes a code cache of a probe script in a process without flags, as the build makes the app's. */
function makeCache(): string {
  const file = join(dir, 'probe.cache');
  run(
    `${PROBE} fs.writeFileSync(${JSON.stringify(file)}, new vm.Script(source, { filename: 'probe.js' }).createCachedData()); return 0;`,
  );
  return file;
}

/** Whether V8 rejects that cache in a process with `flags` that ran `before` first. */
function rejected(cache: string, flags: string[], before: string): unknown {
  return run(
    `${before}\n${PROBE} return new vm.Script(source, { filename: 'probe.js', cachedData: fs.readFileSync(${JSON.stringify(cache)}) }).cachedDataRejected;`,
    flags,
  );
}

describe('exposeGc', () => {
  it('gives a gc that collects, without a gc global in the main context', () => {
    const out = run(`
const gc = exposeGc();
let ref;
(() => { ref = new WeakRef({ big: new Array(1000).fill(0) }); })();
await new Promise((r) => setTimeout(r, 0)); // a WeakRef's target lives until the job ends
gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
return { type: typeof gc, collected: ref.deref() === undefined, global: typeof globalThis.gc };`);
    expect(out).toEqual({ type: 'function', collected: true, global: 'undefined' });
  });

  it('keeps the code caches made without --expose-gc usable, which the flag itself does not', () => {
    const cache = makeCache();
    expect(rejected(cache, [], 'exposeGc();')).toBe(false);
    expect(rejected(cache, ['--expose-gc'], '')).toBe(true);
  });

  it('is how the executables get gc: --expose-gc is not among their V8 flags', () => {
    for (const target of seaTargets()) expect(targetExecArgv(target)).not.toContain('--expose-gc');
  });

  it('uses the gc global of --expose-gc, and gives none where the global was set to undefined', () => {
    expect(run('return exposeGc() === globalThis.gc;', ['--expose-gc'])).toBe(true);
    expect(run('globalThis.gc = undefined; return exposeGc() === undefined;')).toBe(true);
  });
});
