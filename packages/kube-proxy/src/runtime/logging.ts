import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LogFormat } from '../config/kube-proxy-configuration';

/**
 * The daemon's logger for `logging.format` / `--logging-format`, as component-base offers them:
 *
 * - `text` (the default): klog's header, `I1122 19:45:00.123456   12345 kube-proxy] "message" key="value"`
 *   (severity letter I/W/E/F, month and day, time to the microsecond, process id; a Node process
 *   has no Go file:line, so the source is `kube-proxy`), then the structured fields as key=value.
 * - `json`: one object per line like component-base's JSON format, `{"ts":<seconds>,"msg":…,"v":<n>,…}`;
 *   info-level lines carry the verbosity `v`, warnings and errors do not.
 *
 * `logging.verbosity` / `-v` picks the level: below 4 info, 4-5 debug, 6 and up trace.
 * Lines are written synchronously to stderr, so nothing is buffered (and `flushFrequency` has
 * nothing to flush).
 */
export interface ProxyLoggerOptions {
  format: LogFormat | string;
  verbosity: number;
  /** Where each formatted line goes (default: stderr, synchronously). */
  write?: (line: string) => void;
  /** Milliseconds since the epoch (tests inject a fixed clock). */
  now?: () => number;
  pid?: number;
}

/** pino's numeric levels. */
const PINO_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** The pino level for a klog verbosity. */
export function levelForVerbosity(verbosity: number): 'trace' | 'debug' | 'info' {
  return verbosity >= 6 ? 'trace' : verbosity >= 4 ? 'debug' : 'info';
}

/** The klog verbosity a pino level stands for in JSON lines' `v`. */
function verbosityOf(level: number): number {
  return level <= PINO_LEVELS.trace ? 6 : level <= PINO_LEVELS.debug ? 4 : 0;
}

function severity(level: number): string {
  if (level >= PINO_LEVELS.fatal) return 'F';
  if (level >= PINO_LEVELS.error) return 'E';
  if (level >= PINO_LEVELS.warn) return 'W';
  return 'I';
}

function klogValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '<nil>';
  // pino serializes Error objects as { type, message, stack }: klog prints the message.
  const message = (v as { message?: unknown }).message;
  if (typeof message === 'string' && 'stack' in (v as object)) return JSON.stringify(message);
  return JSON.stringify(v);
}

/** One pino JSON record as a klog text line. */
export function formatKlogLine(record: Record<string, unknown>, pid: number): string {
  const { level, time, msg, ...fields } = record;
  const d = new Date(typeof time === 'number' ? time : Date.now());
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const header =
    `${severity(Number(level))}${pad(d.getMonth() + 1)}${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)} ` +
    `${String(pid).padStart(7)} kube-proxy]`;
  const kv = Object.entries(fields).map(([k, v]) => ` ${k}=${klogValue(v)}`);
  return `${header} ${JSON.stringify(String(msg ?? ''))}${kv.join('')}\n`;
}

/** Creates the daemon's logger (see the module comment). */
export function createProxyLogger(o: ProxyLoggerOptions): Logger {
  const write = o.write ?? ((line: string) => writeSync(2, line));
  const now = o.now ?? Date.now;
  const pid = o.pid ?? process.pid;
  const level = levelForVerbosity(o.verbosity);
  if (o.format === 'json') {
    return pino(
      {
        level,
        base: undefined,
        messageKey: 'msg',
        // ts leads, as in component-base; set here because pino puts the level object first.
        timestamp: false,
        formatters: {
          level: (_label, n) =>
            n >= PINO_LEVELS.warn ? { ts: now() / 1000 } : { ts: now() / 1000, v: verbosityOf(n) },
        },
      },
      { write },
    );
  }
  return pino(
    { level, base: undefined, timestamp: () => `,"time":${now()}` },
    { write: (json: string) => write(formatKlogLine(JSON.parse(json) as Record<string, unknown>, pid)) },
  );
}
