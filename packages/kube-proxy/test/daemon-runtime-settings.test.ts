import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyOomScoreAdj, KubeProxyMetrics, MetricsServer } from '../src/index';
import { OomScoreAdjError, serveProfiling } from '../src/runtime/index';

const dir = mkdtempSync(join(tmpdir(), `na-kp-runtime-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
