import { hash } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { TokenBucket } from '../token-bucket';

/** client-go's EventCorrelator defaults (tools/record/events_cache.go). */
export const maxLruCacheEntries = 4096;
export const defaultAggregateMaxEvents = 10;
export const defaultAggregateIntervalMs = 600_000;
export const defaultSpamBurst = 25;
export const defaultSpamQps = 1 / 300;
export const combinedMessagePrefix = '(combined from similar events): ';

/** What to write for an event: a new Event (create), a patch of an earlier one, or nothing. */
export type CorrelatedEvent =
  | { action: 'create'; event: CoreV1Event }
  | {
      action: 'patch';
      event: CoreV1Event;
      patch: Pick<CoreV1Event, 'count' | 'lastTimestamp' | 'message'>;
    }
  | { action: 'skip' };

/** A bounded map dropping the least recently used entry (client-go's lru.Cache). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
  /** Drops every entry the test picks. */
  deleteWhere(test: (value: V) => boolean): void {
    // forEach, not for-of: no [key, value] pair made per entry of three full caches at each pod's removal.
    this.map.forEach((value, key) => {
      if (test(value)) this.map.delete(key);
    });
  }
  get length(): number {
    return this.map.size;
  }
}

/** A cache entry with the uid of the object its events are about, so that it can go with the object. */
interface AboutObject {
  uid: string;
}

const objectKey = (e: CoreV1Event) => {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion];
};

/**
 * client-go's key string (its parts joined), kept as the first 128 bits of its SHA-256: three
 * caches of 4096 entries each held the whole strings, ~200 bytes apiece and a kilobyte for a
 * probe's output in a message, which a churning node keeps full. Two of a cache's keys share a
 * digest with a chance below 2^-100.
 */
const digest = (parts: unknown[]) =>
  // One-shot: a Hash object for each key was garbage, and its shape, remade after every full
  // collection, made V8 drop the key functions' optimised code (`--trace-deopt`).
  hash('sha256', parts.map((p) => p ?? '').join(''), 'buffer').toString('base64url', 0, 16);

/** client-go getEventKey: everything that makes two events the same one, message and fieldPath included. */
function eventKey(e: CoreV1Event): string {
  const o = e.involvedObject;
  return digest([
    e.source?.component,
    e.source?.host,
    o.kind,
    o.namespace,
    o.name,
    o.fieldPath,
    o.uid,
    o.apiVersion,
    e.type,
    e.reason,
    e.message,
  ]);
}

/**
 * The messages an aggregate key saw (client-go's localKeys set): one string until a second,
 * different one comes, which most keys never see; a Set costs ~300 bytes more, 4096 times over.
 */
type Messages = string | Set<string>;

function addMessage(seen: Messages | undefined, message: string): Messages {
  if (seen === undefined || seen === message) return message;
  if (typeof seen === 'string') return new Set([seen, message]);
  seen.add(message);
  return seen;
}

/** client-go EventAggregatorByReasonFunc: similar events differ only in their message. */
function aggregateKey(e: CoreV1Event): string {
  return digest([...objectKey(e), e.type, e.reason, e.reportingComponent, e.reportingInstance]);
}

/**
 * The spam filter's key. client-go keys it by source and object; with that key the upstream
 * v1.36 kubelet could not have posted the 34 events the fixture holds for one crash-looping pod
 * within a minute (burst 25), so here each distinct event (object, reason, message) gets its own
 * bucket: a repeated identical event is throttled, different ones are not.
 */
function spamKey(e: CoreV1Event): string {
  return digest([...objectKey(e), e.type, e.reason, e.message]);
}

/**
 * Upstream's client-side EventCorrelator: aggregation (more than 10 different messages of one
 * reason about one object within 10 minutes become one "(combined from similar events)" event),
 * deduplication (an event seen before bumps count and lastTimestamp of the same Event object
 * through a patch) and the spam filter (a token bucket per key, burst 25, one every 5 minutes).
 */
export class EventCorrelator {
  private readonly aggregates = new Lru<AboutObject & { messages: Messages; lastMs: number }>(
    maxLruCacheEntries,
  );
  // firstTimestamp as epoch ms: a number costs a fraction of a Date, of which 4096 stay cached.
  private readonly observed = new Lru<AboutObject & { count: number; firstMs: number; name: string }>(
    maxLruCacheEntries,
  );
  private readonly spam = new Lru<AboutObject & { bucket: TokenBucket }>(maxLruCacheEntries);

  constructor(private readonly now: () => number) {}

  /** Entries the three caches hold (each at most maxLruCacheEntries). */
  get size(): { aggregates: number; observed: number; spam: number } {
    return { aggregates: this.aggregates.length, observed: this.observed.length, spam: this.spam.length };
  }

  /**
   * Drops what the caches hold about an object that is gone for good (a pod the kubelet removed:
   * no event is made about its uid again). client-go keeps such entries until newer events push
   * them out, so a node whose pods come and go holds 4,096 of each, nearly all about pods long
   * gone; without them the caches hold the live pods' entries. Nothing a later event gets changes.
   */
  forgetObject(uid: string): void {
    const about = (entry: AboutObject) => entry.uid === uid;
    this.aggregates.deleteWhere(about);
    this.observed.deleteWhere(about);
    this.spam.deleteWhere(about);
  }

  correlate(input: CoreV1Event): CorrelatedEvent {
    const now = this.now();
    const uid = input.involvedObject.uid ?? '';
    let event = input;
    let key = eventKey(event);
    const aggregate = aggregateKey(event);
    let record = this.aggregates.get(aggregate);
    const fresh = !record || now - record.lastMs > defaultAggregateIntervalMs;
    const messages = addMessage(fresh ? undefined : record?.messages, event.message ?? '');
    record = { uid, messages, lastMs: now };
    this.aggregates.set(aggregate, record);
    if (typeof messages !== 'string' && messages.size >= defaultAggregateMaxEvents) {
      // Too many variants: one combined event stands for all of them from now on.
      messages.delete(messages.values().next().value as string);
      event = { ...event, message: `${combinedMessagePrefix}${event.message ?? ''}` };
      key = aggregate;
    }

    // Observed before the spam filter, as upstream: a throttled repeat still counts.
    const last = this.observed.get(key);
    const count = last ? last.count + 1 : (event.count ?? 1);
    if (last) last.count = count;
    this.observed.set(
      key,
      last ?? {
        uid,
        count,
        firstMs: event.firstTimestamp ? new Date(event.firstTimestamp).getTime() : now,
        name: event.metadata.name ?? '',
      },
    );

    const spamAt = spamKey(event);
    let spam = this.spam.get(spamAt);
    if (!spam) {
      spam = { uid, bucket: new TokenBucket(defaultSpamQps, defaultSpamBurst, now) };
      this.spam.set(spamAt, spam);
    }
    if (!spam.bucket.tryTake(now)) return { action: 'skip' };

    if (!last) return { action: 'create', event };
    const merged: CoreV1Event = {
      ...event,
      metadata: { ...event.metadata, name: last.name },
      count,
      firstTimestamp: new Date(last.firstMs),
    };
    return {
      action: 'patch',
      event: merged,
      patch: { count, lastTimestamp: event.lastTimestamp, message: event.message },
    };
  }
}
