import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { EventCorrelator, maxLruCacheEntries } from '../src/events/event-correlator';
import { podWarningEvent } from './helpers/pod-warning-event';

const event = podWarningEvent;

describe('EventCorrelator (client-go events_cache.go)', () => {
  it('counts each different message once towards aggregation, however often it repeats', () => {
    const correlator = new EventCorrelator(() => 0);
    const messages = Array.from({ length: 9 }, (_, i) => `Error: ${i}`);
    // The first message again and again between the others: still 9 different ones, none combined.
    const results = messages.flatMap((m) => [
      correlator.correlate(event(m)),
      correlator.correlate(event('Error: 0')),
    ]);
    expect(results.some((r) => r.action !== 'skip' && r.event.message?.startsWith('(combined'))).toBe(false);
    // The tenth different message is.
    expect(correlator.correlate(event('Error: 9'))).toMatchObject({
      action: 'create',
      event: { message: '(combined from similar events): Error: 9' },
    });
  });

  it('forgets the messages of an aggregate after 10 minutes without one', () => {
    const clock = new FakeClock(0);
    const correlator = new EventCorrelator(() => clock.now());
    for (let i = 0; i < 9; i++) correlator.correlate(event(`Error: ${i}`));
    clock.advance(600_001);
    // A new window: this is the first message of it, not the tenth.
    expect(correlator.correlate(event('Error: 9'))).toMatchObject({
      action: 'create',
      event: { message: 'Error: 9' },
    });
    for (let i = 10; i < 18; i++) correlator.correlate(event(`Error: ${i}`));
    expect(correlator.correlate(event('Error: 18'))).toMatchObject({
      event: { message: '(combined from similar events): Error: 18' },
    });
  });

  it('patches with the first occurrence’s name and firstTimestamp', () => {
    const clock = new FakeClock(Date.parse('2025-01-01T00:00:00Z'));
    const correlator = new EventCorrelator(() => clock.now());
    const first = new Date('2024-12-31T23:59:00Z');
    correlator.correlate(event('Back-off', { metadata: { name: 'p.1' }, firstTimestamp: first }));
    clock.advance(5000);
    const later = new Date(clock.now());
    const repeat = correlator.correlate(
      event('Back-off', { metadata: { name: 'p.2' }, firstTimestamp: later, lastTimestamp: later }),
    );
    expect(repeat).toMatchObject({ action: 'patch', event: { metadata: { name: 'p.1' }, count: 2 } });
    expect(repeat.action === 'patch' && repeat.event.firstTimestamp?.toISOString()).toBe(first.toISOString());
    // Without a firstTimestamp, the clock's time of the first occurrence stands in.
    correlator.correlate(event('no timestamp'));
    clock.advance(1000);
    const again = correlator.correlate(event('no timestamp'));
    expect(again.action === 'patch' && again.event.firstTimestamp?.getTime()).toBe(clock.now() - 1000);
  });

  it(`remembers the ${maxLruCacheEntries} most recently seen events, no more`, () => {
    const correlator = new EventCorrelator(() => 0);
    const distinct = (i: number) =>
      event('Started', {
        involvedObject: { kind: 'Pod', name: `p${i}`, namespace: 'default', uid: `u${i}` },
      });
    for (let i = 0; i < maxLruCacheEntries; i++) correlator.correlate(distinct(i));
    // Seen again, p0 becomes the most recent; p1 is now the least recent and goes first.
    expect(correlator.correlate(distinct(0)).action).toBe('patch');
    correlator.correlate(distinct(maxLruCacheEntries));
    expect(correlator.correlate(distinct(1)).action).toBe('create');
    expect(correlator.correlate(distinct(0)).action).toBe('patch');
  });

  it('forgets what it holds about a removed pod, and only that pod', () => {
    const correlator = new EventCorrelator(() => 0);
    const about = (uid: string, message: string) =>
      event(message, { involvedObject: { kind: 'Pod', name: uid, namespace: 'default', uid } });
    for (let i = 0; i < 3; i++) correlator.correlate(about('gone', `Error: ${i}`));
    correlator.correlate(about('live', 'Error: 0'));
    expect(correlator.size).toEqual({ aggregates: 2, observed: 4, spam: 4 });
    correlator.forgetObject('gone');
    expect(correlator.size).toEqual({ aggregates: 1, observed: 1, spam: 1 });
    // The live pod's repeat is still counted on its first Event.
    expect(correlator.correlate(about('live', 'Error: 0'))).toMatchObject({
      action: 'patch',
      event: { count: 2 },
    });
  });
});
