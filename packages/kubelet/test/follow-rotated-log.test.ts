import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followContainerLog } from '../src/logs/container-log-text';

const line = (text: string) => `2025-01-01T00:00:00.000000000Z stdout F ${text}\n`;

describe('followContainerLog across log rotation', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-follow-${process.pid}-`));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the renamed file to its end, then the reopened log from its start', async () => {
    const log = join(dir, '0.log');
    await writeFile(log, line('one'));
    let out = '';
    const abort = new AbortController();
    const following = followContainerLog(
      log,
      {},
      (chunk) => {
        out += chunk;
      },
      abort.signal,
      20,
    );
    const until = async (text: string) => {
      for (let i = 0; i < 500 && !out.endsWith(text); i++) await new Promise((r) => setTimeout(r, 10));
      expect(out.endsWith(text)).toBe(true);
    };
    await until('one\n');
    // Written just before the rotation, then the rename and the runtime's fresh file.
    await appendFile(log, line('two'));
    await rename(log, `${log}.20250101-000000`);
    await writeFile(log, line('three'));
    await until('three\n');
    await appendFile(log, line('four'));
    await until('four\n');
    abort.abort();
    await following;
    expect(out).toBe('one\ntwo\nthree\nfour\n');
  });
});
