import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { klogLine, klogTextStream } from '../src/klog';

// 2026-11-22 19:45:00.123 local time, as klog prints.
const T = new Date(2026, 10, 22, 19, 45, 0, 123).getTime();

describe('klogLine', () => {
  it('prints severity, date, time to µs, pid, source, quoted message and key=value fields', () => {
    expect(
      klogLine(
        { level: 30, time: T, msg: 'Using iptables proxy', ipFamily: 'IPv4', n: 3, ok: true },
        { pid: 4242, source: 'kube-proxy' },
      ),
    ).toBe('I1122 19:45:00.123000    4242 kube-proxy] "Using iptables proxy" ipFamily="IPv4" n=3 ok=true');
    expect(
      klogLine(
        { level: 50, time: T, msg: 'x', err: { type: 'Error', message: 'boom', stack: 's' }, gone: null },
        { pid: 1 },
      ),
    ).toBe('E1122 19:45:00.123000       1 main] "x" err="boom" gone=<nil>');
    expect(
      klogLine(
        { level: 40, time: T, msg: 'w', component: 'kubelet', pid: 9, hostname: 'h', ips: ['10.0.0.1'] },
        { pid: 1 },
      ),
    ).toBe('W1122 19:45:00.123000       1 kubelet] "w" ips=["10.0.0.1"]');
    expect(klogLine({ level: 60, time: T, msg: 'f' }, { pid: 1 })).toMatch(/^F1122 /);
  });
});

describe('klogTextStream', () => {
  it('rewrites JSON lines split across chunks and passes other lines through', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const stream = klogTextStream(out, { pid: 7, source: 'kubelet' });
    const line = JSON.stringify({ level: 30, time: T, msg: 'hi' });
    stream.write(`${line.slice(0, 10)}`);
    stream.write(`${line.slice(10)}\nnot json\n\n`);
    await new Promise<void>((resolve) => stream.end(resolve));
    expect(chunks.join('')).toBe('I1122 19:45:00.123000       7 kubelet] "hi"\nnot json\n');
  });
});
