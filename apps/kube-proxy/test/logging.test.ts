import { klogLine } from '@nodeagent/primitives/klog';
import { describe, expect, it } from 'vitest';
import { createProxyLogger, levelForVerbosity } from '../src/logging';

// 2026-11-22 19:45:00.123 local time.
const T = new Date(2026, 10, 22, 19, 45, 0, 123).getTime();

describe('logging.format text (klog header)', () => {
  it('formats a record as klog does: severity, date, time to µs, pid, source, quoted message, key=value', () => {
    expect(
      klogLine(
        { level: 30, time: T, msg: 'Using iptables proxy', ipFamily: 'IPv4', n: 3, ok: true },
        { pid: 4242, source: 'kube-proxy' },
      ),
    ).toBe('I1122 19:45:00.123000    4242 kube-proxy] "Using iptables proxy" ipFamily="IPv4" n=3 ok=true');
    expect(
      klogLine(
        { level: 50, time: T, msg: 'x', err: { type: 'Error', message: 'boom', stack: 's' } },
        { pid: 1, source: 'kube-proxy' },
      ),
    ).toBe('E1122 19:45:00.123000       1 kube-proxy] "x" err="boom"');
    expect(
      klogLine({ level: 40, time: T, msg: 'w', IPs: ['10.0.0.1'] }, { pid: 1, source: 'kube-proxy' }),
    ).toContain('W1122 19:45:00.123000       1 kube-proxy] "w" IPs=["10.0.0.1"]');
  });

  it('the text logger writes klog lines and honours the verbosity', () => {
    const lines: string[] = [];
    const quiet = createProxyLogger({
      format: 'text',
      verbosity: 0,
      write: (l) => lines.push(l),
      now: () => T,
      pid: 7,
    });
    quiet.debug('hidden at v=0');
    quiet.child({ ipFamily: 'IPv6' }).info({ count: 2 }, 'synced');
    expect(lines).toEqual(['I1122 19:45:00.123000       7 kube-proxy] "synced" ipFamily="IPv6" count=2\n']);
    const verbose = createProxyLogger({
      format: 'text',
      verbosity: 4,
      write: (l) => lines.push(l),
      now: () => T,
      pid: 7,
    });
    verbose.debug('shown at v=4');
    expect(lines.at(-1)).toContain('"shown at v=4"');
  });
});

describe('logging.format json', () => {
  it("writes component-base's JSON shape: ts in seconds, msg, v on info lines, fields", () => {
    const lines: string[] = [];
    const log = createProxyLogger({
      format: 'json',
      verbosity: 4,
      write: (l) => lines.push(l),
      now: () => 1_700_000_000_500,
    });
    log.info({ ipFamily: 'IPv4' }, 'started');
    log.debug('detail');
    log.error({ err: 'boom' }, 'failed');
    const [info, debug, error] = lines.map((l) => JSON.parse(l));
    expect(info).toEqual({ ts: 1_700_000_000.5, v: 0, ipFamily: 'IPv4', msg: 'started' });
    expect(debug).toMatchObject({ v: 4, msg: 'detail' });
    expect(error).toEqual({ ts: 1_700_000_000.5, err: 'boom', msg: 'failed' });
  });
});

describe('logging.verbosity', () => {
  it('maps klog verbosity onto pino levels: below 4 info, 4-5 debug, 6 and up trace', () => {
    expect([0, 3, 4, 5, 6, 9].map(levelForVerbosity)).toEqual([
      'info',
      'info',
      'debug',
      'debug',
      'trace',
      'trace',
    ]);
  });
});

describe('logging.options.<format>.splitStream', () => {
  for (const format of ['text', 'json'] as const) {
    it(`${format}: info lines to the info stream (stdout), error lines to stderr`, () => {
      const out: string[] = [];
      const err: string[] = [];
      const log = createProxyLogger({
        format,
        verbosity: 0,
        splitStream: true,
        write: (l) => err.push(l),
        writeInfo: (l) => out.push(l),
        now: () => T,
      });
      log.info('hello');
      log.child({ ipFamily: 'IPv4' }).error('broken');
      log.info('again');
      expect(out).toHaveLength(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toContain('broken');
      expect(out.join('')).not.toContain('broken');
    });
  }

  it('without it every line goes to stderr', () => {
    const err: string[] = [];
    const log = createProxyLogger({
      format: 'text',
      verbosity: 0,
      write: (l) => err.push(l),
      writeInfo: () => {
        throw new Error('not split');
      },
    });
    log.info('a');
    log.error('b');
    expect(err).toHaveLength(2);
  });
});
