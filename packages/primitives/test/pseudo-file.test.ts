import { describe, expect, it } from 'vitest';
import { readPseudoFile } from '../src/pseudo-file';

describe('readPseudoFile', () => {
  it('reads a procfs file whose size the kernel reports as 0, whole', async () => {
    const status = await readPseudoFile('/proc/self/status');
    expect(status).toMatch(/^Name:\t/);
    expect(status).toMatch(/\nPid:\t\d+\n/);
    expect(status.endsWith('\n')).toBe(true);
  });

  it('reads past 64 KiB', async () => {
    // Every mapping of this process, one line each: well past one read's worth on any Node.
    const maps = await readPseudoFile('/proc/self/smaps');
    expect(maps.length).toBeGreaterThan(65_536);
    expect(maps.trimEnd().split('\n').at(-1)).toMatch(/^VmFlags:/);
  });

  it('rejects, without throwing, with the error and the path of a file that is not there', async () => {
    const read = readPseudoFile('/proc/self/no-such-file');
    expect(read).toBeInstanceOf(Promise);
    await expect(read).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining('/proc/self/no-such-file'),
    });
  });
});
