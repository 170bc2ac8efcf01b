import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSystemBytes, JournalledExt4Error, makeJournalledImage, mkfsArguments } from './journalled-ext4';

const repoRoot = join(import.meta.dirname, '../..');
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-soak-fs-test-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('--journalled-ext4', () => {
  it('asks mkfs.ext4 for a journal and leaves the sparse zeros unwritten', () => {
    const args = mkfsArguments('/x.img');
    expect(args.slice(args.indexOf('-O'), args.indexOf('-O') + 2)).toEqual(['-O', 'has_journal']);
    expect(args.at(-1)).toBe('/x.img');
    expect(args.join(' ')).toContain('lazy_itable_init=1');
  });

  it('sizes the image as the file system it stands in for', () => {
    expect(fileSystemBytes(tmpdir())).toBeGreaterThan(2 ** 26);
  });

  it('makes a sparse ext4 image with a journal (real mkfs.ext4)', () => {
    const image = join(scratch(), 'ext4.img');
    makeJournalledImage(image, 2 ** 30 + 123);
    const header = execFileSync('dumpe2fs', ['-h', image], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(header).toMatch(/Filesystem features:.*has_journal/);
    expect(header).toMatch(/Block count:\s+262144\b/);
    // Sparse: far fewer bytes on disk than its 1 GiB length.
    const blocks = Number(execFileSync('stat', ['-c', '%b', image], { encoding: 'utf8' }));
    expect(blocks * 512).toBeLessThan(2 ** 28);
  });

  it('names mkfs.ext4 and what it said when it fails', () => {
    const image = join(scratch(), 'ext4.img');
    expect(() => makeJournalledImage(image, 8192)).toThrow(JournalledExt4Error);
    expect(() => makeJournalledImage(image, 8192)).toThrow(/^mkfs\.ext4 -q -F .* exited 1: .+/s);
  });

  it('mounts the image in a mount namespace of its own only: the run sees a journalled ext4, the host sees nothing (real mount)', () => {
    const dir = scratch();
    const image = join(dir, 'ext4.img');
    makeJournalledImage(image, 2 ** 30);
    const script = join(dir, 'inner.ts');
    writeFileSync(
      script,
      [
        `import { mountImageAsTmpdir, unmountImage } from ${JSON.stringify(join(repoRoot, 'tools/soak/journalled-ext4.ts'))};`,
        `import { fileSystemNote } from ${JSON.stringify(join(repoRoot, 'tools/soak/file-system-note.ts'))};`,
        `import { tmpdir } from 'node:os';`,
        `const point = mountImageAsTmpdir(${JSON.stringify(image)});`,
        `console.log(JSON.stringify({ point, tmpdir: tmpdir(), note: fileSystemNote(point) }));`,
        'unmountImage(point);',
      ].join('\n'),
    );
    const out = execFileSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        join(repoRoot, 'node_modules/.bin/tsx'),
        '--conditions=@nodeagent/source',
        script,
      ],
      { encoding: 'utf8' },
    );
    const seen = JSON.parse(out.trim().split('\n').at(-1) as string) as {
      point: string;
      tmpdir: string;
      note: string;
    };
    expect(seen.point).toBe(join(dir, 'mnt'));
    expect(seen.tmpdir).toBe(seen.point);
    expect(seen.note).toMatch(
      new RegExp(`^${seen.point} is on ext4 \\(/dev/loop\\d+\\) mounted at ${seen.point}, with a journal$`),
    );
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(seen.point);
    expect(execFileSync('losetup', ['-j', image], { encoding: 'utf8' }).trim()).toBe('');
  });
});
