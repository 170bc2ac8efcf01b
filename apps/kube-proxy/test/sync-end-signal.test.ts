import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { BURST_ENDED_EVENT, SyncEndSignallingHealth } from '../src/sync-end-signal';

describe('SyncEndSignallingHealth', () => {
  it('signals the end of every sync on process, after recording it', () => {
    const clock = new FakeClock(1_000);
    const health = new SyncEndSignallingHealth(60_000, clock);
    const seen: boolean[] = [];
    const listener = () => seen.push(health.status().lastUpdated === 1_000);
    process.on(BURST_ENDED_EVENT, listener);
    try {
      health.queuedUpdate('IPv4');
      expect(seen).toEqual([]);
      health.updated('IPv4');
      health.updated('IPv6');
    } finally {
      process.off(BURST_ENDED_EVENT, listener);
    }
    expect(seen).toEqual([true, true]);
    expect(health.status().healthy).toBe(true);
  });
});
