import type { NftBatchStats } from '@nodeagent/netfilter/nftables';
import { describe, expect, it } from 'vitest';
import { NftablesProxier } from '../src/nftables/index';
import { runQueueWaitMs } from '../src/runtime/run-queue-wait';
import { SyncStages } from '../src/shared/sync-stages';
import { service, slice } from './fixtures';
import { fakeNftables } from './proxier-modes';

// Issue #54: one endpoint change's path through the proxier at a size where a full sync hands
// the event loop back (over 500 Service ports). A partial sync must not: a turn of the event
// loop before it wrote the change let a metrics scrape (or anything else queued) run first.
// Each sync's debug line says where its time went.

const SERVICES = 600;
const services = Array.from({ length: SERVICES }, (_, i) =>
  service(`s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }),
);
const sliceOf = (i: number, ip: string) => slice(`s${i}`, [{ ip, node: 'node-b' }]);

interface Logged {
  obj: Record<string, unknown>;
  msg: string | undefined;
  /** The debug line as a JSON logger writes it (getters read then). */
  json: Record<string, unknown>;
}

function harness(lastBatch?: NftBatchStats, debugEnabled?: boolean) {
  const order: string[] = [];
  const fake = fakeNftables(() => order.push('write'));
  const nftables = lastBatch ? { ...fake.nftables, lastBatch } : fake.nftables;
  const lines: Logged[] = [];
  const debug = (obj: object, msg?: string) =>
    lines.push({ obj: obj as Record<string, unknown>, msg, json: JSON.parse(JSON.stringify(obj)) });
  const logger = {
    debug,
    info() {},
    warn() {},
    error() {},
    ...(debugEnabled === undefined ? {} : { isLevelEnabled: () => debugEnabled }),
  };
  const p = new NftablesProxier({ family: 'IPv4', nodeName: 'node-a', nftables, logger });
  for (const s of services) p.onServiceAdd(s);
  for (let i = 0; i < SERVICES; i++) p.onEndpointSliceAdd(sliceOf(i, `10.244.${i >> 8}.${i & 255}`));
  p.onServicesSynced();
  p.onEndpointSlicesSynced();
  return { p, order, lines };
}

describe('nftables one endpoint change', () => {
  it('a partial sync writes the change without handing the event loop back first', async () => {
    const { p, order } = harness();
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    p.onEndpointSliceUpdate(sliceOf(7, '10.244.0.7'), sliceOf(7, '10.250.0.7'));
    // Queued before the sync starts: it runs first only if the sync yields before writing.
    setImmediate(() => order.push('other work'));
    order.length = 0;
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'partial', ok: true });
    expect(order[0]).toBe('write');
    await p.stop();
  });

  it('logs each sync at debug with when its change was tracked, its stages and a small diff', async () => {
    const { p, lines } = harness();
    await p.syncProxyRules();
    const full = lines.at(-1)!;
    expect(full.msg).toBe('synced nftables rules');
    expect(full.json).toMatchObject({ kind: 'full', ok: true, family: 'IPv4' });
    // A full sync's script is not rendered for the line.
    expect(full.json.script).toBeUndefined();

    const before = SyncStages.now();
    p.onEndpointSliceUpdate(sliceOf(7, '10.244.0.7'), sliceOf(7, '10.250.0.7'));
    await p.syncProxyRules();
    const partial = lines.at(-1)!.json;
    expect(partial).toMatchObject({ kind: 'partial', ok: true, operations: 4 });
    const trackedAt = partial.trackedAt as number;
    expect(trackedAt).toBeGreaterThanOrEqual(before);
    expect(partial.startAt as number).toBeGreaterThanOrEqual(trackedAt);
    const stages = partial.stages as Record<string, number>;
    expect(Object.keys(stages)).toEqual([
      'snapshot',
      'yield',
      'update',
      'diff',
      'kernel',
      'commit',
      'metrics',
      'health',
      'conntrack',
      'total',
    ]);
    const parts = Object.entries(stages).filter(([k]) => k !== 'total');
    expect(stages.total).toBeCloseTo(
      parts.reduce((sum, [, ms]) => sum + ms, 0),
      2,
    );
    expect(partial.script).toContain('add element ip kube-proxy service-cluster-endpoints');
    expect(partial.script).toContain('10.250.0.7');

    // A sync with nothing pending was not waiting for any change.
    await p.syncProxyRules();
    expect(lines.at(-1)!.json.trackedAt).toBeUndefined();
    await p.stop();
  });

  it("reads the thread's run-queue wait at the stamp only for a logger that says debug is on", async () => {
    const on = harness(undefined, true);
    const before = runQueueWaitMs();
    await on.p.syncProxyRules();
    const waited = on.lines.at(-1)!.json.runQueueWaitMs as number;
    expect(waited).toBeGreaterThanOrEqual(before);
    expect(waited).toBeLessThanOrEqual(runQueueWaitMs());
    await on.p.stop();
    for (const debugEnabled of [false, undefined]) {
      const off = harness(undefined, debugEnabled);
      await off.p.syncProxyRules();
      expect(off.lines.at(-1)!.json.runQueueWaitMs).toBeUndefined();
      await off.p.stop();
    }
  });

  it("adds a full sync's batch costs (encode vs. the kernel's send) when the interface measures them", async () => {
    const measured = {
      operations: 9,
      messages: 3,
      bytes: 4096,
      encodeMs: 1.234,
      encodeCpuMs: 1.26,
      sendMs: 0.51,
    };
    const { p, lines } = harness(measured);
    await p.syncProxyRules();
    expect(lines.at(-1)!.json.batch).toEqual({
      encodeMs: 1.2,
      encodeCpuMs: 1.3,
      sendMs: 0.5,
      messages: 3,
      bytes: 4096,
    });
    p.onEndpointSliceUpdate(sliceOf(7, '10.244.0.7'), sliceOf(7, '10.250.0.7'));
    await p.syncProxyRules();
    expect(lines.at(-1)!.json).toMatchObject({ kind: 'partial' });
    expect(lines.at(-1)!.json.batch).toBeUndefined();
    // Without measurements (nft, fakes) the line has none.
    const plain = harness();
    await plain.p.syncProxyRules();
    expect(plain.lines.at(-1)!.json.batch).toBeUndefined();
    await p.stop();
    await plain.p.stop();
  });
});
