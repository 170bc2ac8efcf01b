import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureNode24 } from './node-runtime.mjs';
import type * as V8FlagsAfterStart from './v8-flags-after-start.cjs';

const { setV8FlagsAfterStart } = createRequire(import.meta.url)(
  './v8-flags-after-start.cjs',
) as typeof V8FlagsAfterStart;

describe('setV8FlagsAfterStart', () => {
  it('sets each flag when the app emits nodeagent:started, not before, and only once', () => {
    const set: string[] = [];
    setV8FlagsAfterStart(['--no-turbofan', '--no-maglev'], { setFlags: (flag) => set.push(flag) });
    expect(set).toEqual([]);
    process.emit('nodeagent:started' as 'exit', 0);
    expect(set).toEqual(['--no-turbofan', '--no-maglev']);
    process.emit('nodeagent:started' as 'exit', 0);
    expect(set).toHaveLength(2);
  });
});

describe("in the executables' Node 24", () => {
  it('--no-turbofan from nodeagent:started: a function hot before it is Turbofan code, one hot after stops at Maglev', () => {
    const modulePath = fileURLToPath(new URL('./v8-flags-after-start.cjs', import.meta.url));
    // V8's optimization status bits (runtime-test.cc): Maglev code 1 << 5, Turbofan code 1 << 6.
    // Compiles on the main thread (--no-concurrent-recompilation), so the status is final when read.
    const script = `const make = () => new Function('n', 'let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s;');
const tiers = (f) => { for (let i = 0; i < 20000; i++) f(50); const s = %GetOptimizationStatus(f); return { maglev: (s & 32) !== 0, turbofan: (s & 64) !== 0 }; };
require(${JSON.stringify(modulePath)}).setV8FlagsAfterStart(['--no-turbofan']);
const before = tiers(make());
process.emit('nodeagent:started');
process.stdout.write(JSON.stringify({ before, after: tiers(make()) }));`;
    const r = spawnSync(
      ensureNode24().node,
      ['--allow-natives-syntax', '--no-concurrent-recompilation', '-e', script],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.stderr).toBe('');
    const { before, after } = JSON.parse(r.stdout) as Record<
      'before' | 'after',
      Record<'maglev' | 'turbofan', boolean>
    >;
    expect(before.turbofan).toBe(true);
    expect(after).toEqual({ maglev: true, turbofan: false });
  });
});
