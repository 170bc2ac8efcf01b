import { Writable } from 'node:stream';

// klog's text format (component-base's default `--logging-format=text`) for pino records:
// `I1122 19:54:00.123456   12345 kubelet] "msg" key="value"`.

/** The pid and source a klog header line prints (defaults: this process's pid, the component). */
export interface KlogLineOptions {
  /** Printed after the time; default this process's. */
  pid?: number;
  /** Where klog prints file:line; a Node process has none, so the component's name. A record's own `component` wins. */
  source?: string;
}

/** pino's numeric levels → klog's severity letter. */
function severity(level: number): string {
  if (level >= 60) return 'F';
  if (level >= 50) return 'E';
  if (level >= 40) return 'W';
  return 'I';
}

/** A value as klog prints it: strings quoted, numbers and booleans bare, nil, errors by message. */
function klogValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '<nil>';
  // pino serializes Error objects as { type, message, stack }: klog prints the message.
  const message = (v as { message?: unknown }).message;
  if (typeof message === 'string' && 'stack' in (v as object)) return JSON.stringify(message);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON record as a klog text line (without the newline): severity, month and day,
 * local time to the microsecond (as klog), pid, source, the quoted message, then the fields.
 */
export function klogLine(record: Record<string, unknown>, options: KlogLineOptions = {}): string {
  const { level, time, msg, component, pid: _pid, hostname: _hostname, ...fields } = record;
  const d = new Date(typeof time === 'number' ? time : Date.now());
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const source = typeof component === 'string' ? component : (options.source ?? 'main');
  const header =
    `${severity(typeof level === 'number' ? level : 30)}${pad(d.getMonth() + 1)}${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)} ` +
    `${String(options.pid ?? process.pid).padStart(7)} ${source}]`;
  const pairs = Object.entries(fields).map(([k, v]) => ` ${k}=${klogValue(v)}`);
  return `${header} ${JSON.stringify(typeof msg === 'string' ? msg : String(msg ?? ''))}${pairs.join('')}`;
}

/**
 * A pino destination that rewrites each JSON line as a klog text line to `out` (stderr by
 * default); a line that is not JSON passes through unchanged.
 */
export function klogTextStream(
  out: NodeJS.WritableStream = process.stderr,
  options: KlogLineOptions = {},
): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() !== '') {
          let text = line;
          try {
            text = klogLine(JSON.parse(line) as Record<string, unknown>, options);
          } catch {}
          out.write(`${text}\n`);
        }
        newline = pending.indexOf('\n');
      }
      done();
    },
  });
}
