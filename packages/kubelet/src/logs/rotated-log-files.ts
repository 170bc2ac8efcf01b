import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** Upstream's suffixes: `<log>.<timestamp>` rotated, `.gz` compressed, `.tmp` while compressing. */
export const compressSuffix = '.gz';
export const tmpSuffix = '.tmp';

/**
 * The rotated file's suffix, upstream's Go layout "20060102-150405" in the node's local time
 * (time.Now().Format), e.g. 0.log.20250101-120000.
 */
export function rotationTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-` +
    `${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
  );
}

/**
 * The order of rotated files, oldest first: by the name without `.gz`, whose timestamp sorts by
 * age, then by the `-<n>` a rotation adds when several happen within one second (`-10` after
 * `-9`, and `<ts>` before `<ts>-1` before `<ts>.gz`'s neighbours regardless of compression).
 */
export function compareRotatedLogs(a: string, b: string): number {
  const ka = rotationKey(a);
  const kb = rotationKey(b);
  if (ka.stamp !== kb.stamp) return ka.stamp < kb.stamp ? -1 : 1;
  return ka.seq - kb.seq;
}

function rotationKey(file: string): { stamp: string; seq: number } {
  const name = file.endsWith(compressSuffix) ? file.slice(0, -compressSuffix.length) : file;
  const match = /^(.*\.\d{8}-\d{6})-(\d+)$/.exec(name);
  return match ? { stamp: match[1]!, seq: Number(match[2]) } : { stamp: name, seq: 0 };
}

/**
 * The name for the log rotated now: `<log>.<timestamp>` as upstream, or `<log>.<timestamp>-<n>`
 * when a file of that second already exists (a fast writer rotates several times a second, and
 * upstream's name would overwrite the previous file). `n` is past every one of that second still
 * there, not the first free one: once the oldest of them (`<log>.<timestamp>`) is removed, reusing
 * its name would sort the newest file first, and readers and removal go by that order.
 */
export function rotatedLogName(log: string, ms: number, existing: readonly string[]): string {
  const base = `${log}.${rotationTimestamp(ms)}`;
  let last = -1;
  for (const file of existing) {
    const { stamp, seq } = rotationKey(file);
    if (stamp === base) last = Math.max(last, seq);
  }
  return last < 0 ? base : `${base}-${last + 1}`;
}

/** Every `<log>.*` file next to `log` (upstream's filepath.Glob("<log>.*")), as full paths. */
export async function rotatedSiblings(log: string): Promise<string[]> {
  const prefix = `${basename(log)}.`;
  const names = await readdir(dirname(log)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.filter((name) => name.startsWith(prefix)).map((name) => join(dirname(log), name));
}

/**
 * Splits rotated files into in use and unused as upstream's filterUnusedLogs: temporary files
 * are unused, compressed ones in use, and an uncompressed file whose `.gz` exists is unused
 * (compression finished but the original was not removed).
 */
export function filterUnusedLogs(logs: readonly string[]): { inUse: string[]; unused: string[] } {
  const all = new Set(logs);
  const inUse: string[] = [];
  const unused: string[] = [];
  for (const log of logs) {
    const used = !log.endsWith(tmpSuffix) && (log.endsWith(compressSuffix) || !all.has(log + compressSuffix));
    (used ? inUse : unused).push(log);
  }
  return { inUse, unused };
}

/**
 * Every file of a container log, oldest first, the current one last (upstream GetAllLogs):
 * the timestamp suffix sorts rotated files by age.
 */
export async function allContainerLogs(log: string): Promise<string[]> {
  const { inUse } = filterUnusedLogs(await rotatedSiblings(log));
  return [...inUse.sort(compareRotatedLogs), log];
}

/**
 * Gzips `log` to `log.gz` through `log.tmp` (same mode), then removes `log`, as upstream
 * compressLog. `signal` abandons it (the file is being removed): the .tmp goes, `log` stays.
 */
export async function compressLog(log: string, signal?: AbortSignal): Promise<void> {
  const { mode } = await stat(log);
  const tmp = log + tmpSuffix;
  try {
    await pipeline(createReadStream(log), createGzip(), createWriteStream(tmp, { mode: mode & 0o7777 }), {
      signal,
    });
    // Removed while the last bytes were written: no .gz for a file that is gone.
    signal?.throwIfAborted();
    await rename(tmp, log + compressSuffix);
  } finally {
    await rm(tmp, { force: true });
  }
  await rm(log);
}
