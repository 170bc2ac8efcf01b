import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { klogLine } from '@nodeagent/primitives/klog';
import { afterAll, describe, expect, it } from 'vitest';
import { applyOomScoreAdj, createProxyLogger, KubeProxyMetrics, MetricsServer } from '../src/index';
import { OomScoreAdjError, serveProfiling } from '../src/runtime/index';

const dir = mkdtempSync(join(tmpdir(), `na-kp-runtime-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe('oomScoreAdj', () => {
  it('writes the value to the oom_score_adj file', async () => {
    const path = join(dir, 'oom_score_adj');
    writeFileSync(path, '0');
    await applyOomScoreAdj(-999, path);
    expect(readFileSync(path, 'utf8')).toBe('-999');
  });

  it('a failed write is an OomScoreAdjError naming the field, value and path', async () => {
    const path = join(dir, 'missing', 'oom_score_adj');
    const err = await applyOomScoreAdj(-999, path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OomScoreAdjError);
    expect(err).toMatchObject({ code: 'OOM_SCORE_ADJ_FAILED', field: 'oomScoreAdj', value: -999, path });
    expect((err as Error).message).toContain('oomScoreAdj: cannot write -999');
  });
});

describe('enableProfiling', { timeout: 60_000 }, () => {
  async function serve(profiling: boolean) {
    const server = new MetricsServer(
      '127.0.0.1:0',
      new KubeProxyMetrics(),
      'iptables',
      profiling ? serveProfiling : undefined,
    );
    const { port } = await server.start();
    return { server, url: (p: string) => `http://127.0.0.1:${port}${p}` };
  }

  it('serves a V8 heap snapshot and CPU profile under /debug/pprof/ on the metrics server', async () => {
    const { server, url } = await serve(true);
    try {
      expect(await (await fetch(url('/debug/pprof/'))).text()).toContain('heap');
      const heap = await fetch(url('/debug/pprof/heap'));
      expect(heap.status).toBe(200);
      const snapshot = JSON.parse(await heap.text()) as { snapshot: { node_count: number } };
      expect(snapshot.snapshot.node_count).toBeGreaterThan(1000);
      const cpu = await fetch(url('/debug/pprof/profile?seconds=0.2'));
      expect(cpu.status).toBe(200);
      const profile = (await cpu.json()) as { nodes: unknown[]; startTime: number; endTime: number };
      expect(profile.nodes.length).toBeGreaterThan(0);
      expect(profile.endTime).toBeGreaterThan(profile.startTime);
      expect((await fetch(url('/debug/pprof/profile?seconds=soon'))).status).toBe(400);
      expect(await (await fetch(url('/metrics'))).text()).toContain('kubeproxy_');
    } finally {
      await server.close();
    }
  });

  it('is off by default: /debug/pprof/ is not found', async () => {
    const { server, url } = await serve(false);
    try {
      expect((await fetch(url('/debug/pprof/heap'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
