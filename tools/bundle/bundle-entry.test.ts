import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepBundles } from './bundle-entry';

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
