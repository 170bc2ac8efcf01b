import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceFile, replaceFileSync } from '../src/replace-file.js';

describe.each([
  ['replaceFile', replaceFile],
  ['replaceFileSync', async (...args: Parameters<typeof replaceFileSync>) => replaceFileSync(...args)],
] as const)('%s', (_name, replace) => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'na-replace-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the content whole, with the mode asked for, and leaves no temporary file', async () => {
    const path = join(dir, 'state');
    writeFileSync(path, 'old content that is longer than the new');
    await replace(path, 'new', { mode: 0o600, temporaryPath: join(dir, '.state.tmp') });
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['state']);
    // The rename keeps the inode of the temporary file, created with the mode.
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('keeps the old file and removes the temporary one when the rename fails', async () => {
    const path = join(dir, 'target');
    mkdirSync(join(path, 'inside'), { recursive: true });
    await expect(
      replace(path, 'new', { mode: 0o644, temporaryPath: join(dir, 'target.tmp') }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
    expect(readdirSync(dir)).toEqual(['target']);
    expect(readdirSync(path)).toEqual(['inside']);
  });
});
