import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as EmbeddedAddon from './embedded-addon.cjs';

const require = createRequire(import.meta.url);
const { loadAddonBytes } = require('./embedded-addon.cjs') as typeof EmbeddedAddon;

// koffi's linux-x64 addon, the one the executables embed (native-addons.mjs), stands for any
// embedded addon: loadAddonBytes writes it out, dlopen()s it and deletes the file.
const koffiAddon = join(dirname(require.resolve('koffi/package.json')), 'build/koffi/linux_x64/koffi.node');

describe('loadAddonBytes', () => {
  const dir = mkdtempSync(join(tmpdir(), `na-embedded-addon-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads an addon from the first place that takes it, and names every place that did not', () => {
    const bytes = new Uint8Array(readFileSync(koffiAddon));
    // A missing directory stands for a noexec /tmp: the next place is used.
    const loaded = loadAddonBytes(bytes, 'koffi.node', [join(dir, 'missing'), dir]) as { load?: unknown };
    expect(typeof loaded.load).toBe('function');
    expect(() => loadAddonBytes(bytes, 'koffi.node', [join(dir, 'a'), join(dir, 'b')])).toThrow(
      /cannot load koffi\.node \(.*\/a: ENOENT.*; .*\/b: ENOENT/,
    );
  });
});
