import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCriLogLine } from '@nodeagent/cri-client';

export interface LogOptions {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines newer than this (ms since epoch). */
  sinceMs?: number;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps?: boolean;
}

/**
 * Turns CRI log file text into what `kubectl logs` shows, as upstream ReadLogs does: `tailLines`
 * counts the file's lines (entries), then each entry newer than `sinceMs` is written as it was
 * logged — a full line (tag F) with its newline, a partial one (tag P: a long line cut by the
 * runtime, or output that ended without a newline) without — optionally after its timestamp.
 */
export function renderCriLog(text: string, options: LogOptions = {}): string {
  const raw = text.split('\n').filter((line) => line !== '');
  const lines =
    options.tailLines !== undefined && options.tailLines >= 0
      ? raw.slice(Math.max(0, raw.length - options.tailLines))
      : raw;
  let out = '';
  for (const line of lines) {
    let entry: ReturnType<typeof parseCriLogLine>;
    try {
      entry = parseCriLogLine(line);
    } catch {
      continue;
    }
    if (options.sinceMs !== undefined && Date.parse(entry.time) < options.sinceMs) continue;
    if (options.timestamps) out += `${entry.time} `;
    out += entry.full ? `${entry.content}\n` : entry.content;
  }
  return out;
}

/** The CRI log file of a container instance: <podLogsDir>/<ns>_<name>_<uid>/<container>/<restartCount>.log. */
export function containerLogFile(
  podLogsDir: string,
  namespace: string,
  pod: string,
  uid: string,
  container: string,
  restartCount: number,
): string {
  return join(podLogsDir, `${namespace}_${pod}_${uid}`, container, `${restartCount}.log`);
}

export async function readContainerLog(file: string, options: LogOptions): Promise<string> {
  return renderCriLog(await readFile(file, 'utf8'), options);
}

/**
 * Follows a log file: writes what is there, then appends new complete lines as they arrive
 * until `signal` aborts. Polls, since inotify on files rotated by the runtime is unreliable.
 * Reads through one open file, so lines written just before log rotation renamed it are not
 * lost; once that file is read to its end and the path names a new file (the runtime reopened
 * the log), it goes on from the start of the new one, as upstream ReadLogs does when the log is
 * recreated.
 */
export async function followContainerLog(
  file: string,
  options: LogOptions,
  write: (chunk: string) => void,
  signal: AbortSignal,
  pollMs = 200,
): Promise<void> {
  let handle = await open(file, 'r');
  try {
    const first = await handle.readFile('utf8');
    write(renderCriLog(first, options));
    let offset = Buffer.byteLength(first);
    let carry = '';
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const { size, ino } = await handle.stat();
      if (size <= offset) {
        const current = await stat(file).catch(() => undefined);
        if (current && current.ino !== ino) {
          await handle.close();
          handle = await open(file, 'r');
          offset = 0;
          carry = '';
        }
        continue;
      }
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      offset = size;
      const text = carry + buffer.toString('utf8');
      const cut = text.lastIndexOf('\n');
      carry = text.slice(cut + 1);
      if (cut >= 0) write(renderCriLog(text.slice(0, cut + 1), { timestamps: options.timestamps }));
    }
  } finally {
    await handle.close();
  }
}
