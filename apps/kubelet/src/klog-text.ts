import { Writable } from 'node:stream';

const severity = (level: number) => (level >= 60 ? 'F' : level >= 50 ? 'E' : level >= 40 ? 'W' : 'I');
const two = (n: number) => String(n).padStart(2, '0');

/**
 * One pino JSON record as a klog text line, upstream's default log format
 * (`--logging-format=text`): `I1122 19:54:00.123456   12345 kubelet] "msg" key="value"`.
 * The file:line klog prints is the component name here.
 */
export function klogTextLine(record: Record<string, unknown>, pid = process.pid): string {
  const { level, time, msg, component, pid: _pid, hostname: _host, ...fields } = record;
  const at = new Date(typeof time === 'number' ? time : Date.now());
  const header =
    `${severity(typeof level === 'number' ? level : 30)}${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())} ` +
    `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}.` +
    `${String(at.getUTCMilliseconds() * 1000).padStart(6, '0')} ${String(pid).padStart(7, ' ')} ` +
    `${typeof component === 'string' ? component : 'kubelet'}]`;
  const pairs = Object.entries(fields).map(([key, value]) => `${key}=${JSON.stringify(value) ?? 'null'}`);
  return [header, JSON.stringify(typeof msg === 'string' ? msg : ''), ...pairs].join(' ');
}

/** A pino destination that writes klog text lines to `out` (stderr by default). */
export function klogTextStream(out: NodeJS.WritableStream = process.stderr): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() !== '') {
          try {
            out.write(`${klogTextLine(JSON.parse(line) as Record<string, unknown>)}\n`);
          } catch {
            out.write(`${line}\n`);
          }
        }
        newline = pending.indexOf('\n');
      }
      done();
    },
  });
}
