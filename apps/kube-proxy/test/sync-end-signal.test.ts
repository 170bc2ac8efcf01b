import { BoundedFrequencyRunner } from '@nodeagent/kube-proxy/runtime';
import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { BURST_ENDED_EVENT, STARTED_EVENT, SyncEndSignallingHealth } from '../src/sync-end-signal';

/** One turn of the event loop. */
const turn = () => new Promise((resolve) => setImmediate(resolve));
/** Past a signal asked for now: its setImmediate is set once the idle promise settled, after this call. */
const settled = async () => {
  await turn();
  await turn();
};

function recording(clock = new FakeClock(1_000)) {
  const events: string[] = [];
  const health = new SyncEndSignallingHealth(60_000, clock, (e) => events.push(e));
  return { events, health };
}

describe('SyncEndSignallingHealth', () => {
  it('records the sync at once and signals its end only once the proxiers are idle', async () => {
    const { events, health } = recording();
    let idle: () => void = () => {};
    health.track(['IPv4', 'IPv6'], () => new Promise<void>((resolve) => (idle = resolve)));
    health.queuedUpdate('IPv4');
    health.updated('IPv4');
    expect(health.status()).toMatchObject({ healthy: true, lastUpdated: 1_000 });
    await settled();
    expect(events).toEqual([]);
    // A second family's sync while the first signal waits: the same signal.
    health.updated('IPv6');
    idle();
    await settled();
    expect(events).toEqual([STARTED_EVENT, BURST_ENDED_EVENT]);
    health.updated('IPv4');
    await settled();
    expect(events).toEqual([STARTED_EVENT, BURST_ENDED_EVENT]);
    idle();
    await settled();
    expect(events).toEqual([STARTED_EVENT, BURST_ENDED_EVENT, BURST_ENDED_EVENT]);
  });

  it('ends start-up once every tracked family synced, before that burst', async () => {
    const { events, health } = recording();
    health.track(['IPv4', 'IPv6'], () => Promise.resolve());
    health.updated('IPv6');
    await settled();
    expect(events).toEqual([BURST_ENDED_EVENT]);
    health.updated('IPv4');
    await settled();
    expect(events).toEqual([BURST_ENDED_EVENT, STARTED_EVENT, BURST_ENDED_EVENT]);
    health.updated('IPv6');
    health.updated('IPv4');
    await settled();
    expect(events).toEqual([BURST_ENDED_EVENT, STARTED_EVENT, BURST_ENDED_EVENT, BURST_ENDED_EVENT]);
  });

  it('untracked (an embedder): every sync end signalled, start-up never ended', async () => {
    const { events, health } = recording();
    health.updated('IPv4');
    await settled();
    health.updated('IPv4');
    await settled();
    expect(events).toEqual([BURST_ENDED_EVENT, BURST_ENDED_EVENT]);
  });

  it("a collection in the signal does not count into the sync runner's run (minSyncPeriod from its end)", async () => {
    const clock = new FakeClock(10_000);
    const events: string[] = [];
    let runner: BoundedFrequencyRunner | undefined;
    const health = new SyncEndSignallingHealth(60_000, clock, (e) => {
      events.push(e);
      // The trim's synchronous collection: 800 ms of the main thread.
      if (e === BURST_ENDED_EVENT) clock.advance(800);
    });
    runner = new BoundedFrequencyRunner(
      'sync',
      async () => {
        health.updated('IPv4');
        await turn(); // the rest of the sync (service health, conntrack)
      },
      { minIntervalMs: 1_000, maxIntervalMs: 3_600_000, clock },
    );
    health.track(['IPv4'], () => runner!.whenIdle());
    runner.start();
    runner.run();
    await clock.advanceAsync(0);
    await runner.whenIdle();
    await settled();
    expect(events).toEqual([STARTED_EVENT, BURST_ENDED_EVENT]);
    expect(clock.now()).toBe(10_800);
    // A change now runs 1 s after the run ended (10,000), not 1 s after the collection.
    runner.run();
    expect(runner.nextRunAt()).toBe(11_000);
    runner.stop();
  });
});
