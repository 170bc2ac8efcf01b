import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The executable's first log line (a deprecated flag's warning, a configuration error) comes from
// the command line: flags, the configuration file and its drop-ins, the start-up warnings. Those
// modules load before anything runs, and whatever they import statically loads with them; the
// package root of @nodeagent/kubelet brings the whole engine (CRI over HTTP/2, TLS, the API
// client, ~0.17 CPU-s of a start, issue #51). So the command line imports /config and /errors,
// and cli.ts loads run-kubelet (the engine) only once the command line is read.
const src = fileURLToPath(new URL('../src/', import.meta.url));

/** Relative modules `file` imports statically for their values (`import type` is erased). */
function staticImports(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  return [...text.matchAll(/^import (?!type )[^;]*? from '\.\/([^']+)';/gms)].map((m) => `${m[1]}.ts`);
}

/** Every module cli.ts loads before it runs: the closure of its static imports. */
function loadedAtStart(): Set<string> {
  const seen = new Set<string>();
  const queue = ['cli.ts'];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...staticImports(file));
  }
  return seen;
}

describe("the kubelet's command line loads without the engine", () => {
  it('cli.ts does not import run-kubelet statically', () => {
    expect(loadedAtStart().has('run-kubelet.ts')).toBe(false);
    expect(readFileSync(join(src, 'cli.ts'), 'utf8')).toContain("await import('./run-kubelet')");
  });

  it("no module loaded at start takes a value from @nodeagent/kubelet's root", () => {
    const fromRoot = [...loadedAtStart()].filter((file) =>
      /^import (?!type )[^;]*? from '@nodeagent\/kubelet';/ms.test(readFileSync(join(src, file), 'utf8')),
    );
    expect(fromRoot).toEqual([]);
  });
});
