import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HollowNode } from '../src/index';
import { RequestCounter } from '../src/request-counter';
import { RestartWaves } from '../src/restart-waves';

// RestartWaves on stand-in nodes whose restart() records requests in the counter as a restarted
// node's informers would send them: which nodes a wave picks, and what it reports.

/** Adds `count` requests of `kind` to `node`'s counts, as the counter would on seeing them. */
function send(counter: RequestCounter, node: string, kind: string, count = 1): void {
  const counts = counter.perNode.get(node);
  if (!counts) throw new Error(`no node ${node}`);
  counts.total += count;
  counts.byKind.set(kind, (counts.byKind.get(kind) ?? 0) + count);
}

/** `node` opens a connection, as the counter would see its first request over a new one. */
function connect(counter: RequestCounter, node: string): void {
  const socket = Object.assign(new EventEmitter(), { bytesWritten: 0, bytesRead: 0 });
  counter.perNode.get(node)?.sockets.track(socket as unknown as Socket);
}

/** `n` stand-in nodes, each with two watches open; restarting one sends `onRestart`'s requests. */
function standIns(n: number, onRestart: (counter: RequestCounter, name: string) => void) {
  const names = Array.from({ length: n }, (_, i) => `n-${i}`);
  const counter = new RequestCounter(names);
  for (const name of names) {
    const counts = counter.perNode.get(name);
    if (counts) counts.openWatches = 2;
  }
  const restarted: string[] = [];
  const nodes = names.map(
    (name) =>
      ({
        name,
        async restart() {
          restarted.push(name);
          onRestart(counter, name);
        },
      }) as unknown as HollowNode,
  );
  return { counter, nodes, restarted };
}

const relist = (counter: RequestCounter, name: string) => {
  send(counter, name, 'WATCH pods');
  send(counter, name, 'WATCH services');
  send(counter, name, 'GET nodes');
};

describe('RestartWaves', () => {
  it('restarts ceil(percent × N) nodes at once, the next ones in turn, wrapping around', async () => {
    const { counter, nodes, restarted } = standIns(25, relist);
    const waves = new RestartWaves(nodes, counter, { percent: 10, runStartMs: 0 });
    expect((await waves.run()).nodes).toEqual(['n-0', 'n-1', 'n-2']);
    for (let i = 0; i < 7; i++) await waves.run();
    // Wave 9 picks n-24, then wraps to n-0 and n-1.
    expect((await waves.run()).nodes).toEqual(['n-24', 'n-0', 'n-1']);
    expect(restarted).toHaveLength(27);
    expect(waves.reports.map((r) => r.wave)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('at least one node, at most all of them', async () => {
    const few = standIns(3, relist);
    expect(
      (await new RestartWaves(few.nodes, few.counter, { percent: 1, runStartMs: 0 }).run()).nodes,
    ).toEqual(['n-0']);
    const all = standIns(3, relist);
    expect(
      (await new RestartWaves(all.nodes, all.counter, { percent: 100, runStartMs: 0 }).run()).nodes,
    ).toEqual(['n-0', 'n-1', 'n-2']);
  });

  it("reports the wave's requests and new connections of the restarted nodes and of the others apart", async () => {
    const { counter, nodes } = standIns(10, (c, name) => {
      relist(c, name);
      // Its relist over two new connections.
      connect(c, name);
      connect(c, name);
      // Meanwhile another node renews its Lease: the others' traffic, not a relist.
      send(c, 'n-5', 'PUT leases');
    });
    send(counter, 'n-0', 'WATCH pods', 4); // before the wave: not counted in it
    connect(counter, 'n-0');
    const now = 10_000;
    const waves = new RestartWaves(nodes, counter, { percent: 10, runStartMs: 7_500, now: () => now });
    const report = await waves.run();
    expect(report).toEqual({
      wave: 1,
      atSeconds: 2.5,
      nodes: ['n-0'],
      secondsToWatchesBack: 0,
      restarted: { total: 3, byKind: { 'GET nodes': 1, 'WATCH pods': 1, 'WATCH services': 1 } },
      others: { total: 1, byKind: { 'PUT leases': 1 } },
      connectionsOpened: { restarted: 2, others: 0 },
    });
  });

  it('a node whose watches do not come back within the time limit: secondsToWatchesBack null', async () => {
    // Restarting sends one watch where two were open.
    const { counter, nodes } = standIns(2, (c, name) => send(c, name, 'WATCH pods'));
    let now = 0;
    const waves = new RestartWaves(nodes, counter, {
      percent: 50,
      runStartMs: 0,
      timeLimitMs: 1_000,
      // Each reading of the clock moves it 400 ms on: the limit passes after a few polls.
      now: () => {
        now += 400;
        return now;
      },
    });
    const report = await waves.run();
    expect(report.secondsToWatchesBack).toBeNull();
    expect(report.restarted.byKind).toEqual({ 'WATCH pods': 1 });
    // Stand-ins without a kube-proxy half: no proxy time in the report.
    expect(report).not.toHaveProperty('secondsToProxiesSynced');
  });

  /**
   * Nodes with a kube-proxy half, whose history holds one successful full sync from the
   * `firstSyncAt`-th clock reading on (0: from the start). Restarting gives each a new proxier
   * whose history is empty until `syncAfterPolls` clock readings since the start have passed
   * (never when undefined). The clock moves 250 ms a reading; `restartedAt` holds the reading
   * count at each restart.
   */
  function proxyNodes(n: number, syncAfterPolls: number | undefined, firstSyncAt = 0) {
    const { counter, nodes } = standIns(n, (c, name) => {
      send(c, name, 'WATCH services');
      send(c, name, 'WATCH endpointslices');
    });
    let now = 0;
    let readings = 0;
    const restartedAt: number[] = [];
    const clock = () => {
      readings++;
      now += 250;
      return now;
    };
    const withProxies = nodes.map((node) => {
      let history: { kind: string; ok: boolean; durationMs: number }[] = [];
      let syncAt: number | undefined = firstSyncAt;
      const proxier = {
        get history() {
          if (syncAt !== undefined && readings >= syncAt && history.length === 0)
            history.push({ kind: 'full', ok: true, durationMs: 1 });
          return history;
        },
      };
      const restart = node.restart.bind(node);
      return Object.assign(node, {
        proxy: { proxier },
        async restart() {
          restartedAt.push(readings);
          history = [];
          syncAt = syncAfterPolls;
          await restart();
        },
      }) as HollowNode;
    });
    return { counter, nodes: withProxies, clock, restartedAt };
  }

  it("with kube-proxy halves: the time until every restarted proxy's first sync, after the watches", async () => {
    const { counter, nodes, clock } = proxyNodes(2, 6);
    const waves = new RestartWaves(nodes, counter, { percent: 100, runStartMs: 0, now: clock });
    const report = await waves.run();
    // Readings: the wave's start (250 ms), the deadline's (500), then one a poll. The watches
    // were back at the first poll (750: 0.5 s); the proxies' syncs are seen at the sixth (1,500).
    expect(report.secondsToWatchesBack).toBe(0.5);
    expect(report.secondsToProxiesSynced).toBe(1.25);
  });

  it("untilSteady: resolves once every node's kube-proxy has finished its first sync", async () => {
    const { counter, nodes, clock, restartedAt } = proxyNodes(2, 8, 4);
    const waves = new RestartWaves(nodes, counter, { percent: 50, runStartMs: 0, now: clock });
    // Readings: the deadline's (1), then one a poll until the first syncs come at the fourth.
    await waves.untilSteady();
    expect(nodes.every((node) => node.proxy?.proxier.history.length === 1)).toBe(true);
    const report = await waves.run();
    // The wave restarted its node after that: its start is the fifth reading (1,250 ms, to a tenth).
    expect(restartedAt).toEqual([5]);
    expect(report.atSeconds).toBe(1.3);
  });

  it('untilSteady gives up at the time limit when a proxy never syncs', async () => {
    const { counter, nodes, clock } = proxyNodes(1, undefined, Number.POSITIVE_INFINITY);
    const waves = new RestartWaves(nodes, counter, {
      percent: 100,
      runStartMs: 0,
      timeLimitMs: 1_000,
      now: clock,
    });
    await waves.untilSteady();
    expect(nodes[0]?.proxy?.proxier.history).toEqual([]);
  });

  it('a proxy that never syncs within the time limit: secondsToProxiesSynced null', async () => {
    const { counter, nodes, clock } = proxyNodes(1, undefined);
    const waves = new RestartWaves(nodes, counter, {
      percent: 100,
      runStartMs: 0,
      timeLimitMs: 1_000,
      now: clock,
    });
    const report = await waves.run();
    expect(report.secondsToWatchesBack).toBe(0.5);
    expect(report.secondsToProxiesSynced).toBeNull();
  });
});
