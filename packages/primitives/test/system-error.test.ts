import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goListenError, goPathError, systemReason } from '../src/system-error';

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  );
}

describe("systemReason: a failed call in the Go originals' words", () => {
  it('says what Go says where libuv words it otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'na-system-error-'));
    try {
      const isDir = await failure(() => readFile(dir));
      // libuv: "illegal operation on a directory"; Go's syscall.EISDIR: "is a directory".
      expect(systemReason(isDir)).toBe('is a directory');
      const missing = await failure(() => readFile(join(dir, 'x')));
      expect(goPathError(missing)).toBe(`open ${join(dir, 'x')}: no such file or directory`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('maps the errno, so a code alone is not enough and a message is used as it is', () => {
    expect(systemReason({ errno: -16, code: 'EBUSY' })).toBe('device or resource busy');
    expect(systemReason({ errno: -17 })).toBe('file exists');
    expect(systemReason({ errno: -98 })).toBe('address already in use');
    expect(systemReason(new Error("ENOENT: no such file or directory, open '/x'"))).toBe(
      'no such file or directory',
    );
  });

  it('prints a refused listener as net.OpError does', () => {
    expect(goListenError({ errno: -99 }, '::1', 10250)).toBe(
      'listen tcp [::1]:10250: bind: cannot assign requested address',
    );
  });
});
