import { describe, expect, it } from 'vitest';
import { splitNodes } from '../src/hollow-workers';
import { mergeWaveReports } from '../src/restart-waves';

describe('spreading nodes over workers', () => {
  it('splits N nodes into K contiguous shares as even as can be', () => {
    expect(splitNodes(1000, 2)).toEqual([
      { firstIndex: 0, nodes: 500 },
      { firstIndex: 500, nodes: 500 },
    ]);
    expect(splitNodes(5, 2)).toEqual([
      { firstIndex: 0, nodes: 3 },
      { firstIndex: 3, nodes: 2 },
    ]);
    expect(splitNodes(7, 3).map((s) => s.nodes)).toEqual([3, 2, 2]);
  });

  it("merges the workers' reports of one wave: nodes, slowest return, requests and connections summed", () => {
    const a = {
      wave: 1,
      atSeconds: 12.5,
      nodes: ['n-0'],
      secondsToWatchesBack: 0.4,
      restarted: { total: 5, byKind: { 'WATCH pods': 1, 'WATCH services': 4 } },
      others: { total: 2, byKind: { 'PUT leases': 2 } },
      connectionsOpened: { restarted: 6, others: 1 },
    };
    const b = {
      ...a,
      atSeconds: 12.4,
      nodes: ['n-3'],
      secondsToWatchesBack: 0.9,
      connectionsOpened: { restarted: 7, others: 0 },
    };
    expect(mergeWaveReports(2, [a, b])).toEqual({
      wave: 2,
      atSeconds: 12.4,
      nodes: ['n-0', 'n-3'],
      secondsToWatchesBack: 0.9,
      restarted: { total: 10, byKind: { 'WATCH pods': 2, 'WATCH services': 8 } },
      others: { total: 4, byKind: { 'PUT leases': 4 } },
      connectionsOpened: { restarted: 13, others: 1 },
    });
    // One worker's nodes not back in time: the wave's nodes were not all back.
    expect(mergeWaveReports(1, [a, { ...b, secondsToWatchesBack: null }]).secondsToWatchesBack).toBeNull();
  });

  it("merges the proxies' sync times the same way, and leaves them out where no worker had any", () => {
    const a = {
      wave: 1,
      atSeconds: 3,
      nodes: ['n-0'],
      secondsToWatchesBack: 0.2,
      secondsToProxiesSynced: 1.5,
      restarted: { total: 3, byKind: { 'WATCH services': 3 } },
      others: { total: 0, byKind: {} },
      connectionsOpened: { restarted: 2, others: 0 },
    };
    const b = { ...a, nodes: ['n-1'], secondsToProxiesSynced: 2.25 };
    expect(mergeWaveReports(1, [a, b]).secondsToProxiesSynced).toBe(2.25);
    expect(
      mergeWaveReports(1, [a, { ...b, secondsToProxiesSynced: null }]).secondsToProxiesSynced,
    ).toBeNull();
    const { secondsToProxiesSynced: _, ...kubeletsOnly } = a;
    expect(mergeWaveReports(1, [kubeletsOnly, kubeletsOnly])).not.toHaveProperty('secondsToProxiesSynced');
  });
});
