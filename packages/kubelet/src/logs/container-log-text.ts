import { join } from 'node:path';
import { parseCriLogLine } from '@nodeagent/cri-client';
import { type LogFileSource, streamContainerLog } from './log-reader';

/** Which part of a container log to show, as `kubectl logs` --tail, --since and --timestamps ask for it. */
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

/** The CRI log lines in `lines` as `kubectl logs` shows them (range already applied). */
function renderLines(lines: Buffer, options: LogOptions): string {
  return renderCriLog(lines.toString('utf8'), { timestamps: options.timestamps });
}

/**
 * Reads a container log as upstream ReadLogs, without holding the file in memory: --tail and
 * --since are found reading backwards from the end (across the rotation boundary when the
 * current file holds too little), then the lines stream out in order. `write` may return a
 * promise (backpressure); `signal` stops the read (e.g. limitBytes reached); `source` is how
 * its files are opened (log-reader.ts LogFileSource: the current one may come already open).
 */
export async function streamContainerLogText(
  file: string,
  options: LogOptions,
  write: (chunk: string) => Promise<void> | void,
  signal?: AbortSignal,
  follow?: { pollMs?: number },
  source: LogFileSource = {},
): Promise<void> {
  await streamContainerLog(file, {
    ...source,
    tailLines: options.tailLines !== undefined && options.tailLines >= 0 ? options.tailLines : undefined,
    sinceMs: options.sinceMs,
    signal,
    follow: follow !== undefined,
    pollMs: follow?.pollMs,
    write: (lines) => write(renderLines(lines, options)),
  });
}

/**
 * The selected range of a container log, rendered as `kubectl logs` shows it, as one string
 * (read across the rotation boundary when needed). Rejects with the file system's ENOENT when
 * neither the log nor an uncompressed rotated copy of it exists.
 */
export async function readContainerLog(file: string, options: LogOptions): Promise<string> {
  let out = '';
  await streamContainerLogText(file, options, (chunk) => {
    out += chunk;
  });
  return out;
}

/**
 * Follows a log file: writes what is in range, then new complete lines as they arrive until
 * `signal` aborts, across rotations (each file read to its end through the handle opened when
 * it was found, then the next one, as upstream ReadLogs does when the log is recreated).
 */
export async function followContainerLog(
  file: string,
  options: LogOptions,
  write: (chunk: string) => Promise<void> | void,
  signal: AbortSignal,
  pollMs = 100,
): Promise<void> {
  await streamContainerLogText(file, options, write, signal, { pollMs });
}
