import { constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { sleepOn } from '../clock-timers';
import { compareRotatedLogs, compressSuffix, filterUnusedLogs, rotatedSiblings } from './rotated-log-files';

/** Bytes read per step, backwards when locating a tail, forwards when streaming. */
export const blockSize = 64 * 1024;

export interface LogRange {
  /** Only the last N lines (entries). */
  tailLines?: number;
  /** Only lines logged at or after this (ms since epoch). */
  sinceMs?: number;
}

/** Where a read or a follow counts what it read (tests check that --tail reads only the end). */
export interface ReadCounter {
  bytesRead: number;
}

/**
 * One file of a container log, open: a handle kept from the moment it was found, so a rotation
 * that renames or removes it meanwhile changes nothing for the reader. A compressed file is
 * held decompressed (rotated files are about containerLogMaxSize).
 */
interface Segment {
  handle?: FileHandle;
  buffer?: Buffer;
  ino: number;
  /** The rotated name (its order among rotated files); undefined for the file opened as `log`. */
  name?: string;
  /** Where reading starts. */
  offset: number;
  /**
   * Where a read that does not follow stops: the size when the file was found. A writer at tens
   * of MiB/s would otherwise keep a `--tail 1` reading until the file is rotated.
   */
  end?: number;
}

const newline = 0x0a;

/** How the reader opens a file of the log (the current one, a rotated one) for reading. */
export type OpenLogFile = (path: string) => Promise<FileHandle>;

/**
 * The default: read-only and never through a symlink as the last component (ELOOP), since the
 * runtime writes every file of a container log as a regular file; a symlink there is planted.
 */
export const openLogFileNoFollow: OpenLogFile = (path) =>
  open(path, constants.O_RDONLY | constants.O_NOFOLLOW);

/**
 * Where the reader's files come from: `openFile` for each file it opens itself, and `current`,
 * the current file already opened by the caller (e.g. after checking where it lives), read in
 * place of opening `log` again, so a swap of `log` after that check changes nothing. The reader
 * owns `current` from then on and closes it.
 */
export interface LogFileSource {
  openFile?: OpenLogFile;
  current?: FileHandle;
}

/** The in-use rotated files of `log`, oldest first. */
async function rotatedFiles(log: string): Promise<string[]> {
  return filterUnusedLogs(await rotatedSiblings(log)).inUse.sort(compareRotatedLogs);
}

async function openSegment(
  file: string,
  openFile: OpenLogFile,
  counter?: ReadCounter,
): Promise<Segment | undefined> {
  try {
    const handle = await openFile(file);
    if (file.endsWith(compressSuffix)) {
      const compressed = await handle.readFile().finally(() => handle.close());
      if (counter) counter.bytesRead += compressed.length;
      return { buffer: gunzipSync(compressed), ino: -1, name: file, offset: 0 };
    }
    return { handle, ino: (await handle.stat()).ino, name: file, offset: 0 };
  } catch (error) {
    // Removed or compressed between listing and opening.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function segmentSize(segment: Segment): Promise<number> {
  return segment.buffer ? segment.buffer.length : (await segment.handle!.stat()).size;
}

async function readAt(
  segment: Segment,
  position: number,
  length: number,
  counter?: ReadCounter,
): Promise<Buffer> {
  if (segment.buffer) return segment.buffer.subarray(position, position + length);
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await segment.handle!.read(buffer, 0, length, position);
  if (counter) counter.bytesRead += bytesRead;
  return buffer.subarray(0, bytesRead);
}

/** The time of a CRI log line starting at `line` (NaN if it has none). */
function lineTime(line: Buffer): number {
  const space = line.indexOf(0x20);
  return Date.parse(line.subarray(0, space < 0 ? line.length : space).toString('latin1'));
}

/**
 * Walks one file backwards from its last complete line, block by block, to where the range
 * starts in it: after `remaining` lines, or after the last line (from the end) older than
 * sinceMs. Returns that offset (complete), or 0 with the lines counted when the whole file is in
 * range. A partial line at the very end (still being written) is not counted.
 */
async function scanBack(
  segment: Segment,
  remaining: number,
  sinceMs: number | undefined,
  counter?: ReadCounter,
): Promise<{ offset: number; lines: number; complete: boolean }> {
  let lines = 0;
  // End of the line being looked at (after its newline); -1 until the last newline is found.
  let lineEnd = -1;
  // The first bytes after the block being scanned: the head of a line that starts in it.
  let carry: Buffer = Buffer.alloc(0);
  // A line from lineStart to lineEnd: counted, unless older than sinceMs (then the range starts after it).
  const take = (lineStart: number, head: Buffer) => {
    if (sinceMs !== undefined && lineTime(head) < sinceMs) return { offset: lineEnd, lines, complete: true };
    lines++;
    lineEnd = lineStart;
    return lines >= remaining ? { offset: lineStart, lines, complete: true } : undefined;
  };
  for (let position = segment.end ?? (await segmentSize(segment)); position > 0; ) {
    const from = Math.max(0, position - blockSize);
    const block = await readAt(segment, from, position - from, counter);
    let earliest = -1;
    for (let i = block.length - 1; i >= 0; i--) {
      if (block[i] !== newline) continue;
      const head =
        earliest < 0 ? Buffer.concat([block.subarray(i + 1, i + 65), carry]) : block.subarray(i + 1);
      earliest = i;
      if (lineEnd < 0) {
        lineEnd = from + i + 1;
        continue;
      }
      const done = take(from + i + 1, head);
      if (done) return done;
    }
    carry =
      earliest >= 0
        ? block.subarray(0, Math.min(64, earliest + 1))
        : Buffer.concat([block.subarray(0, 64), carry]).subarray(0, 64);
    position = from;
  }
  // The file's first line.
  if (lineEnd > 0) {
    const done = take(0, carry);
    if (done) return done;
  }
  return { offset: 0, lines, complete: false };
}

/**
 * How many times a read of a range starts over when a file it needed vanished meanwhile (a
 * writer at tens of MiB/s rotates several times a second, and a loaded node can pause a read
 * for longer than that): each try starts from the files there are then.
 */
const rangeAttempts = 5;

/**
 * Opens the files a read of `range` needs, oldest first, each with the offset reading starts at:
 * without tail or since, the current file from its start (as upstream, which reads only the
 * current file); with them, the current file read backwards from its end, then — when it holds
 * fewer lines than asked, or none older than since — the rotated files before it, newest first,
 * so a log that was just rotated still answers --tail and --since in full. Upstream answers a
 * --tail of a log reopened a moment ago (still empty) with nothing; this answers its last lines.
 */
export async function openLogRange(
  log: string,
  range: LogRange,
  counter?: ReadCounter,
  source: LogFileSource = {},
): Promise<Segment[]> {
  const openFile = source.openFile ?? openLogFileNoFollow;
  // The caller's handle serves the first try only: a later try lists and opens afresh.
  let current = source.current;
  for (let attempt = 1; ; attempt++) {
    const given = current;
    current = undefined;
    const { segments, vanished } = await tryLogRange(log, range, openFile, given, counter);
    // A file that held lines in range was removed between listing and opening it: the files
    // listed then are stale (the current one may be a rotated file by now), so list again.
    if (!vanished || attempt >= rangeAttempts) return segments;
    await closeSegments(segments);
  }
}

async function tryLogRange(
  log: string,
  range: LogRange,
  openFile: OpenLogFile,
  given: FileHandle | undefined,
  counter?: ReadCounter,
): Promise<{ segments: Segment[]; vanished: boolean }> {
  const current = given ? await givenSegment(given) : await openCurrent(log, openFile, counter);
  const bounded = range.tailLines !== undefined || range.sinceMs !== undefined;
  const rotated = await rotatedFiles(log);
  // Rotated between opening and listing: it is that rotated file, not the current one.
  for (const file of rotated)
    if (!file.endsWith(compressSuffix) && (await stat(file).catch(() => undefined))?.ino === current.ino)
      current.name = file;
  const older = rotated.filter(
    (file) => file !== current.name && (!current.name || compareRotatedLogs(file, current.name) < 0),
  );
  const segments: Segment[] = [current];
  if (!bounded) return { segments, vanished: false };
  let remaining = range.tailLines ?? Number.POSITIVE_INFINITY;
  if (remaining <= 0) {
    current.offset = await segmentSize(current);
    return { segments, vanished: false };
  }
  let vanished = false;
  for (let segment: Segment | undefined = current; segment; ) {
    const found = await scanBack(segment, remaining, range.sinceMs, counter);
    segment.offset = found.offset;
    if (found.complete) return { segments, vanished: false };
    remaining -= found.lines;
    segment = undefined;
    while (!segment && older.length > 0) {
      segment = await openSegment(older.pop()!, openFile, counter);
      if (!segment) vanished = true;
    }
    if (segment) segments.unshift(segment);
  }
  return { segments, vanished };
}

/**
 * The current file, its end the size it has now. Between a rotation's rename and the runtime's
 * reopen there is none, and the newest rotated file (the one just renamed, still written to)
 * stands in for it — compressed, if the runtime never reopened (the container stopped). That
 * one may go too before it is opened (a later rotation removed it): then look again.
 */
async function openCurrent(log: string, openFile: OpenLogFile, counter?: ReadCounter): Promise<Segment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await givenSegment(await openFile(log));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const newest = (await rotatedFiles(log)).at(-1);
      if (!newest) throw error;
      const segment = await openSegment(newest, openFile, counter);
      if (segment) {
        segment.end = await segmentSize(segment);
        return segment;
      }
      if (attempt >= rangeAttempts) throw error;
    }
  }
}

/** The current file from an open handle, its end the size it has now. */
async function givenSegment(handle: FileHandle): Promise<Segment> {
  try {
    const { ino, size } = await handle.stat();
    return { handle, ino, offset: 0, end: size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Closes what openLogRange opened. */
export async function closeSegments(segments: readonly Segment[]): Promise<void> {
  for (const segment of segments) await segment.handle?.close().catch(() => undefined);
}

export interface LogStreamOptions extends LogRange, LogFileSource {
  /** Called with complete CRI log lines (each ending in a newline), in order; awaited (backpressure). */
  write(lines: Buffer): Promise<void> | void;
  signal?: AbortSignal;
  /** Keep following the log, across rotations, until `signal` aborts. */
  follow?: boolean;
  /** How long a follower at the end of the log waits before looking again. */
  pollMs?: number;
  counter?: ReadCounter;
  /** The clock a follower's polls wait on (default: the system clock); `sleep` replaces it. */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Streams the lines of a container log in `range` to `write`, then, with `follow`, every line
 * written after them, across rotations: each file is read through the handle opened when it was
 * found, to its end, and a rotated file is left only once the runtime writes to a new one
 * (`log` names another file) and a last read found nothing more. The next file is the oldest
 * rotated one after it (or `log`), so a follower that falls a rotation or two behind reads the
 * files in between, and no line is read twice.
 */
export async function streamContainerLog(log: string, options: LogStreamOptions): Promise<void> {
  const { signal, counter } = options;
  const sleep = options.sleep ?? ((ms: number) => sleepOn(options.clock ?? systemClock, ms));
  let segments: Segment[];
  try {
    segments = await openLogRange(log, options, counter, options);
  } catch (error) {
    // The caller's handle is the reader's: closed even when the range could not be opened.
    await options.current?.close().catch(() => undefined);
    throw error;
  }
  const openFile = options.openFile ?? openLogFileNoFollow;
  let segment: Segment | undefined;
  try {
    // The newest rotated file when reading reached the current one: ours gets a name after it.
    let liveBase = (await rotatedFiles(log)).filter((f) => f !== segments.at(-1)?.name).at(-1);
    while (!signal?.aborted) {
      segment = segments.shift();
      if (!segment) break;
      await drain(segment, options);
      if (!options.follow) {
        await segment.handle?.close();
        continue;
      }
      // Follow: wait for the file to be finished (rotated away), reading what comes meanwhile.
      await waitFinished(log, segment, options, sleep);
      await segment.handle?.close();
      if (signal?.aborted) break;
      if (segments.length > 0) continue;
      let last = segment.name;
      if (last === undefined) {
        // The live file was rotated: find its name (by inode, or the first one after liveBase).
        const after = (await rotatedFiles(log)).filter(
          (f) => liveBase === undefined || compareRotatedLogs(f, liveBase) > 0,
        );
        let own: string | undefined;
        for (const file of after)
          if (
            !file.endsWith(compressSuffix) &&
            (await stat(file).catch(() => undefined))?.ino === segment.ino
          )
            own = file;
        last = own ?? after[0] ?? liveBase;
      }
      const next = await nextSegment(log, last, { ...options, openFile }, sleep);
      if (!next) break;
      if (next.name === undefined) liveBase = last;
      segments.push(next);
    }
  } finally {
    await closeSegments(segments);
    await segment?.handle?.close().catch(() => undefined);
  }
}

/** Writes what `segment` holds from its offset to its last complete line; the offset moves on. */
async function drain(segment: Segment, options: LogStreamOptions): Promise<void> {
  const { signal, sinceMs } = options;
  for (;;) {
    if (signal?.aborted) return;
    const size = options.follow || segment.end === undefined ? await segmentSize(segment) : segment.end;
    if (segment.offset >= size) return;
    const chunk = await readAt(
      segment,
      segment.offset,
      Math.min(blockSize * 4, size - segment.offset),
      options.counter,
    );
    const cut = chunk.lastIndexOf(newline);
    if (cut < 0) {
      // One line longer than a chunk (containerd splits lines at 16 KiB, so only a partial write).
      if (chunk.length < blockSize * 4) return;
      segment.offset += chunk.length;
      continue;
    }
    const lines = chunk.subarray(0, cut + 1);
    segment.offset += lines.length;
    await options.write(sinceMs === undefined ? lines : keepSince(lines, sinceMs));
  }
}

/** The lines of `lines` logged at or after sinceMs (upstream checks each line). */
function keepSince(lines: Buffer, sinceMs: number): Buffer {
  const kept: Buffer[] = [];
  for (let start = 0; start < lines.length; ) {
    const end = lines.indexOf(newline, start) + 1 || lines.length;
    const line = lines.subarray(start, end);
    if (!(lineTime(line) < sinceMs)) kept.push(line);
    start = end;
  }
  return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
}

/**
 * Reads `segment` as it grows until the runtime writes elsewhere: `log` names another file
 * (the reopen after a rotation happened) and one more read found the rest.
 */
async function waitFinished(
  log: string,
  segment: Segment,
  options: LogStreamOptions,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  if (segment.buffer) return;
  const pollMs = options.pollMs ?? 100;
  // The runtime creates the new file a moment before it switches its writes to it: a file is
  // finished once the new one has been seen twice, a poll apart, and the last read after that.
  let movedSeen = 0;
  // A rotated file with a newer rotated one after it is finished: the runtime writes only to the
  // newest. A follower that fell behind reads it through without waiting.
  if (segment.name !== undefined) {
    const newest = (await rotatedFiles(log)).at(-1);
    if (newest !== undefined && compareRotatedLogs(newest, segment.name) > 0) return drain(segment, options);
  }
  while (!options.signal?.aborted) {
    const current = await stat(log).catch(() => undefined);
    movedSeen = current !== undefined && current.ino !== segment.ino ? movedSeen + 1 : 0;
    await drain(segment, options);
    if (movedSeen >= 2) return;
    if (movedSeen > 0 || (await segmentSize(segment)) <= segment.offset) await sleep(pollMs);
  }
}

/**
 * The file after the rotated file `last`: the oldest rotated one named after it, or else `log`
 * itself (checked again after opening it, in case it was rotated in between).
 */
async function nextSegment(
  log: string,
  last: string | undefined,
  options: LogStreamOptions & { openFile: OpenLogFile },
  sleep: (ms: number) => Promise<void>,
): Promise<Segment | undefined> {
  const after = async () =>
    (await rotatedFiles(log)).filter((f) => last === undefined || compareRotatedLogs(f, last) > 0);
  while (!options.signal?.aborted) {
    const pending = await after();
    if (pending.length > 0) {
      const segment = await openSegment(pending[0]!, options.openFile, options.counter);
      if (segment) return segment;
      // Compressed or removed meanwhile: list again (a removed one's lines are gone).
      if (!(await after()).some((f) => f.startsWith(pending[0]!))) last = pending[0];
      continue;
    }
    const handle = await options.openFile(log).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!handle) {
      // Between the rename and the runtime's reopen.
      await sleep(options.pollMs ?? 100);
      continue;
    }
    if ((await after()).length > 0) {
      await handle.close();
      continue;
    }
    return { handle, ino: (await handle.stat()).ino, offset: 0 };
  }
  return undefined;
}
