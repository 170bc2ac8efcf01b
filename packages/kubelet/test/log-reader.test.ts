import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockSize, type ReadCounter, streamContainerLog } from '../src/logs/log-reader';

const base = Date.UTC(2025, 0, 1);
/** CRI line n, logged n ms after base. */
const line = (n: number, pad = '') =>
  `${new Date(base + n).toISOString().replace('Z', '000000Z')} stdout F line ${n}${pad}\n`;
const lines = (from: number, to: number, pad = '') => {
  let text = '';
  for (let n = from; n <= to; n++) text += line(n, pad);
  return text;
};
/** The line numbers in CRI text, in order. */
const numbers = (text: string) => [...text.matchAll(/ F line (\d+)/g)].map((m) => Number(m[1]));

describe('container log reader (tail, since, follow across rotation)', () => {
  let dir: string;
  let log: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-log-reader-${process.pid}-`));
    log = join(dir, '0.log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function read(
    range: { tailLines?: number; sinceMs?: number },
    counter?: ReadCounter,
  ): Promise<string> {
    let out = '';
    await streamContainerLog(log, {
      ...range,
      counter,
      write: (chunk) => {
        out += chunk.toString();
      },
    });
    return out;
  }

  it('--tail reads only the last blocks of a large file', async () => {
    // ~9 MiB of 100-byte lines.
    const pad = ' '.repeat(50);
    const chunks: string[] = [];
    for (let n = 0; n < 90_000; n += 10_000) chunks.push(lines(n + 1, n + 10_000, pad));
    await writeFile(log, chunks.join(''));
    const counter = { bytesRead: 0 };
    expect(numbers(await read({ tailLines: 3 }, counter))).toEqual([89_998, 89_999, 90_000]);
    // The last block, and the forward read of the three lines: nothing near the file's 9 MiB.
    expect(counter.bytesRead).toBeLessThanOrEqual(2 * blockSize);
    const many = { bytesRead: 0 };
    expect(numbers(await read({ tailLines: 2000 }, many))).toHaveLength(2000);
    expect(many.bytesRead).toBeLessThan(4 * 2000 * 110);
  });

  it('--tail and --since go on into the rotated files when the current one holds too little', async () => {
    await writeFile(`${log}.20250101-000000.gz`, gzipSync(lines(1, 10)));
    await writeFile(`${log}.20250101-000001`, lines(11, 20));
    await writeFile(log, lines(21, 23));
    expect(numbers(await read({ tailLines: 2 }))).toEqual([22, 23]);
    expect(numbers(await read({ tailLines: 5 }))).toEqual([19, 20, 21, 22, 23]);
    expect(numbers(await read({ tailLines: 16 }))).toEqual(Array.from({ length: 16 }, (_, i) => i + 8));
    expect(numbers(await read({ tailLines: 100 }))).toHaveLength(23);
    expect(await read({ tailLines: 0 })).toBe('');
    // Lines logged at or after base + 9 ms, wherever they are.
    expect(numbers(await read({ sinceMs: base + 9 }))).toEqual(Array.from({ length: 15 }, (_, i) => i + 9));
    expect(numbers(await read({ sinceMs: base + 22 }))).toEqual([22, 23]);
    // Both: the last 4 lines, of which those since base + 21.
    expect(numbers(await read({ tailLines: 4, sinceMs: base + 21 }))).toEqual([21, 22, 23]);
    // Without a range, the current file only (as upstream).
    expect(numbers(await read({}))).toEqual([21, 22, 23]);
  });

  it('a read that does not follow stops at the size the file had when it was found', async () => {
    // Over one 256 KiB read, so the file grows between two reads of it.
    await writeFile(log, lines(1, 4000, ' '.repeat(50)));
    let out = '';
    await streamContainerLog(log, {
      write: async (chunk) => {
        if (out === '') await appendFile(log, lines(4001, 4010));
        out += chunk.toString();
      },
    });
    expect(numbers(out)).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));
  });

  it('answers from the file just renamed while the runtime has not reopened the log yet', async () => {
    await writeFile(`${log}.20250101-000000.gz`, gzipSync(lines(1, 10)));
    await writeFile(`${log}.20250101-000001`, lines(11, 20));
    expect(numbers(await read({ tailLines: 1 }))).toEqual([20]);
    expect(numbers(await read({ tailLines: 12 }))).toEqual(Array.from({ length: 12 }, (_, i) => i + 9));
  });

  it('leaves a line still being written at the end for later', async () => {
    await writeFile(log, `${lines(1, 3)}2025-01-01T00:00:00.004000000Z stdout F li`);
    expect(numbers(await read({ tailLines: 2 }))).toEqual([2, 3]);
    expect(numbers(await read({}))).toEqual([1, 2, 3]);
  });

  it('a follower sees every line exactly once across many rotations, also when it falls behind and files were compressed', async () => {
    await writeFile(log, lines(1, 5));
    let next = 6;
    let rotation = 0;
    const rotate = async () => {
      rotation++;
      await rename(log, `${log}.20250101-000000-${rotation}`);
      await writeFile(log, '');
    };
    const write = async (count: number) => {
      await appendFile(log, lines(next, next + count - 1));
      next += count;
    };
    let out = '';
    const abort = new AbortController();
    let waits = 0;
    // The follower's waits at the end of the log are where the "runtime" writes and rotates.
    const sleep = async () => {
      waits++;
      // After 60 rounds of writing, it only has to catch up (a bound keeps a stuck follower from hanging).
      if (waits > 60) {
        if (numbers(out).at(-1) === next - 1 || waits > 1000) abort.abort();
        return;
      }
      if (waits % 3 === 0) {
        // Falls behind: three rotations while it waits, the middle file compressed meanwhile.
        await write(4);
        await rotate();
        await write(4);
        await rotate();
        const middle = `${log}.20250101-000000-${rotation}`;
        await writeFile(`${middle}.gz`, gzipSync(await readFile(middle)));
        await rm(middle);
        await write(4);
        await rotate();
        await write(2);
      } else {
        await write(3);
        await rotate();
        await write(3);
      }
    };
    await streamContainerLog(log, {
      tailLines: 2,
      follow: true,
      signal: abort.signal,
      sleep,
      write: (chunk) => {
        out += chunk.toString();
      },
    });
    expect(rotation).toBeGreaterThanOrEqual(20);
    const seen = numbers(out);
    expect(seen).toEqual(Array.from({ length: next - 4 }, (_, i) => i + 4));
  });
});
