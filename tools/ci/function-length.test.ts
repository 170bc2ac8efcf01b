import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { longFunctions } from './function-length.mjs';

/** A body of `n` statement lines. */
function body(n: number): string {
  return Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
}

describe('function-length', () => {
  it('flags a function, a method and an arrow over the limit, named as a reader finds them', () => {
    const text = [
      `export function long() {\n${body(10)}\n}`,
      `class Kubelet {\n  syncPod() {\n${body(10)}\n  }\n}`,
      `const handler = () => {\n${body(10)}\n};`,
      `function short() {\n${body(3)}\n}`,
    ].join('\n');
    expect(longFunctions('a.ts', text, 8)).toEqual([
      { name: 'long', line: 1, lines: 12, reason: false },
      { name: 'Kubelet.syncPod', line: 14, lines: 12, reason: false },
      { name: 'handler', line: 27, lines: 12, reason: false },
    ]);
  });

  it('lets a long function pass with a function-length: comment above it or above its statement', () => {
    const text = [
      `// function-length: one table of every field, kept whole to read against upstream\nfunction table() {\n${body(10)}\n}`,
      `/**\n * Doc.\n * function-length: the steps of upstream's SyncPod, in order\n */\nexport const sync = async () => {\n${body(10)}\n};`,
      `// a comment that gives no reason\nfunction other() {\n${body(10)}\n}`,
    ].join('\n');
    expect(
      longFunctions('b.ts', text, 8).map((fn: { name: string; reason: boolean }) => [fn.name, fn.reason]),
    ).toEqual([
      ['table', true],
      ['sync', true],
      ['other', false],
    ]);
  });

  it('counts nothing at or under the limit', () => {
    expect(longFunctions('c.ts', `function edge() {\n${body(6)}\n}`, 8)).toEqual([]);
  });
});
