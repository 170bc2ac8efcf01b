import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileExternalSourceAddon } from './external-source.mjs';
import { ensureNode24 } from './node-runtime.mjs';

// The addon behind `externalAppSource`, compiled as the build compiles it and loaded by the Node 24
// the executables carry: a string over an ArrayBuffer's bytes, not a copy of them.
describe('external-source addon', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), `na-external-source-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a Latin-1 string over the buffer that V8 compiles and runs, and names a wrong argument', () => {
    const { node } = ensureNode24();
    const addon = compileExternalSourceAddon(node, dir);
    const script = join(dir, 'check.cjs');
    writeFileSync(
      script,
      `const { externalLatin1 } = require(${JSON.stringify(addon)});
const text = '(function () { return ' + '1+'.repeat(200000) + '1; })';
const bytes = new Uint8Array(Buffer.from(text, 'latin1'));
const made = externalLatin1(bytes.buffer);
globalThis.gc();
let wrong = '';
try { externalLatin1('not a buffer'); } catch (err) { wrong = err.code + ': ' + err.message; }
process.stdout.write(JSON.stringify({ copied: made.copied, same: made.text === text, ran: require('node:vm').runInThisContext(made.text)(), wrong }));
`,
    );
    const r = spawnSync(node, ['--expose-gc', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      copied: false,
      same: true,
      ran: 200001,
      wrong: 'ERR_INVALID_ARG_TYPE: externalLatin1 takes an ArrayBuffer',
    });
  });
});
