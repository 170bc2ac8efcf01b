import { writeSync } from 'node:fs';
import type { LogFormat } from '@nodeagent/kube-proxy/config';
import { klogLine } from '@nodeagent/primitives/klog';
import pino, { type Logger } from 'pino';

/**
 * The daemon's logger for `logging.format` / `--logging-format`, as component-base offers them.
 * It lives in the app, not in @nodeagent/kube-proxy: the library takes any `ProxyLogger`, so
 * only the executable depends on pino.
 *
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
  /**
   * logging.options.<format>.splitStream: info lines go to `writeInfo` (default: stdout,
   * synchronously) and only error lines to `write`, as component-base's split stream does.
   */
  splitStream?: boolean;
  writeInfo?: (line: string) => void;
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

/** Creates the daemon's logger (see the module comment). */
export function createProxyLogger(o: ProxyLoggerOptions): Logger {
  const errorStream = o.write ?? ((line: string) => writeSync(2, line));
  const infoStream = o.splitStream ? (o.writeInfo ?? ((line: string) => writeSync(1, line))) : errorStream;
  // pino formats and writes synchronously right after logMethod: the level seen there routes the line.
  let lineLevel: number = PINO_LEVELS.info;
  const write = (line: string) => (lineLevel >= PINO_LEVELS.error ? errorStream : infoStream)(line);
  const hooks = {
    logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info'], level: number) {
      lineLevel = level;
      return method.apply(this, args);
    },
  };
  const now = o.now ?? Date.now;
  const pid = o.pid ?? process.pid;
  const level = levelForVerbosity(o.verbosity);
  if (o.format === 'json') {
    return pino(
      {
        level,
        base: undefined,
        messageKey: 'msg',
        hooks,
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
    { level, base: undefined, hooks, timestamp: () => `,"time":${now()}` },
    {
      write: (json: string) =>
        write(`${klogLine(JSON.parse(json) as Record<string, unknown>, { pid, source: 'kube-proxy' })}\n`),
    },
  );
}
