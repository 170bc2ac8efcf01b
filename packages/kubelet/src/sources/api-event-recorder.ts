import {
  type CoreV1Event,
  PatchStrategy,
  setHeaderOptions,
  type V1ObjectReference,
} from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { sleepOn } from '../clock-timers';
import { type CorrelatedEvent, EventCorrelator } from '../events/event-correlator';
import type { EventType, NodeEventRecorder, PodEventMemory, PodEventRecorder } from '../events/event-reasons';
import { TokenBucket } from '../token-bucket';

export type {
  EventType as PodEventType,
  NodeEventRecorder,
  PodEventMemory,
  PodEventRecorder,
} from '../events/event-reasons';

/** KubeletConfiguration eventRecordQPS / eventBurst defaults. */
export const defaultEventRecordQPS = 50;
export const defaultEventBurst = 100;

/**
 * client-go's event broadcaster (tools/record/event.go): an event the API server cannot be
 * reached for is tried up to maxTriesPerEvent times, defaultSleepDuration apart (the first wait
 * a random part of it, so a fleet does not retry in step), while later events wait behind it, up
 * to maxQueuedEvents; beyond that they are dropped.
 */
export const maxTriesPerEvent = 12;
/** client-go's defaultSleepDuration: the wait between two tries of one event. */
export const eventRetrySleepMs = 10_000;
/** client-go's maxQueuedEvents: events waiting to be written (the one being written included). */
export const maxQueuedEvents = 1000;

/** What became of an event that was not written, in upstream's log wording. */
export type EventWriteFailure =
  | 'Unable to write event (may retry after sleeping)'
  | 'Unable to write event (retry limit exceeded!)'
  | 'Server rejected event (will not retry!)'
  | 'Unable to record event: too many queued events, dropped event';

/** The API calls the recorder makes; without patchNamespacedEvent a repeat is created anew with its count. */
export type EventApi = Pick<CoreV1Requests, 'createNamespacedEvent'> &
  Partial<Pick<CoreV1Requests, 'patchNamespacedEvent'>>;

/** How {@link apiEventSink} and {@link apiEventRecorder} write events. */
export interface ApiEventRecorderOptions {
  /** The node the kubelet runs on: source.host, reportingInstance and the node events' object. */
  nodeName: string;
  /** Event timestamps, correlation windows and rate limiting run on it (default: the system clock). */
  clock?: Clock;
  /**
   * Told of every failed write and what follows (upstream's log message): a transport error
   * (API server down, no client certificate yet) is retried; an answer from the server is not.
   */
  onError?: (error: unknown, failure: EventWriteFailure) => void;
  /** KubeletConfiguration.eventRecordQPS: event writes a second (0: unlimited). Default 50. */
  eventRecordQPS?: number;
  /** KubeletConfiguration.eventBurst: writes allowed at once above the QPS. Default 100. */
  eventBurst?: number;
  /** Waits between rate-limited writes and between retries (default: a timer on the clock). */
  sleep?: (ms: number) => Promise<void>;
  /** The first retry's share of eventRetrySleepMs, in [0, 1) (default Math.random). */
  random?: () => number;
  /**
   * No write before this resolves (the client certificate TLS bootstrapping is still to issue):
   * events made meanwhile are kept, up to maxQueuedEvents, without spending their tries.
   */
  writableAfter?: Promise<unknown>;
}

/** An event about a claim, named by its metadata (the kubelet's CSI volumes record these). */
export type ClaimEventRecorder = (
  claim: { metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } },
  type: EventType,
  reason: string,
  message: string,
) => void;

/** Pod and node events through one correlator and one rate-limited write queue. */
export interface ApiEventSink extends PodEventMemory {
  pod: PodEventRecorder;
  node: NodeEventRecorder;
  /** Events about a PersistentVolumeClaim (online expansion's FileSystemResizeSuccessful). */
  claim: ClaimEventRecorder;
  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void>;
}

/**
 * Events as upstream's kubelet recorder writes them: core/v1 Events with source component
 * "kubelet" on this host, reportingComponent kubelet and reportingInstance the node, named
 * "<object>.<unix nanoseconds in hex>", the container's fieldPath in involvedObject. Repeats go
 * through upstream's EventCorrelator (an identical event bumps count and lastTimestamp of the
 * Event written first, through a strategic merge patch) and writes are limited to
 * eventRecordQPS/eventBurst as upstream's event client is. Events made while the API server is
 * unreachable are kept and retried as client-go's broadcaster does (maxTriesPerEvent); those made
 * before the client certificate exists wait for it (writableAfter). Never throws: failures go to
 * onError.
 */
export function apiEventSink(core: EventApi, options: ApiEventRecorderOptions): ApiEventSink {
  const clock = options.clock ?? systemClock;
  const correlator = new EventCorrelator(() => clock.now());
  const qps = options.eventRecordQPS ?? defaultEventRecordQPS;
  const bucket =
    qps > 0 ? new TokenBucket(qps, options.eventBurst ?? defaultEventBurst, clock.now()) : undefined;
  const sleep = options.sleep ?? ((ms: number) => sleepOn(clock, ms));
  let queue: Promise<void> = (options.writableAfter ?? Promise.resolve()).then(() => undefined);
  // Upstream names Events by Unix nanoseconds; the clock here counts milliseconds, so events of
  // one millisecond (Created and Started often are) get the following nanoseconds instead of
  // the same name (which the API server would refuse as AlreadyExists).
  let lastNanos = 0n;
  const nextNanos = (nowMs: number): bigint => {
    const nanos = BigInt(nowMs) * 1_000_000n;
    lastNanos = nanos > lastNanos ? nanos : lastNanos + 1n;
    return lastNanos;
  };

  const write = async (correlated: CorrelatedEvent): Promise<void> => {
    if (correlated.action === 'skip') return;
    while (bucket && !bucket.tryTake(clock.now())) await sleep(bucket.delayMs(clock.now()));
    const { event } = correlated;
    const namespace = event.metadata.namespace ?? 'default';
    if (correlated.action === 'patch' && core.patchNamespacedEvent) {
      try {
        await core.patchNamespacedEvent(
          { name: event.metadata.name ?? '', namespace, body: correlated.patch },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
        return;
      } catch (error) {
        // Upstream recordToSink: an Event removed meanwhile (TTL) is created again.
        if ((error as { code?: number }).code !== 404) throw error;
      }
    }
    const body =
      correlated.action === 'patch'
        ? {
            ...event,
            metadata: { ...event.metadata, name: eventName(event.involvedObject, nextNanos(clock.now())) },
          }
        : event;
    await core.createNamespacedEvent({ namespace, body });
  };

  const random = options.random ?? Math.random;
  const fail = (error: unknown, failure: EventWriteFailure) => options.onError?.(error, failure);
  // Upstream's recordToSink: tries until written, refused by the server, or out of tries.
  const writeWithRetries = async (correlated: CorrelatedEvent): Promise<void> => {
    for (let tries = 1; ; tries++) {
      try {
        await write(correlated);
        return;
      } catch (error) {
        if (answeredByServer(error)) return fail(error, 'Server rejected event (will not retry!)');
        fail(error, 'Unable to write event (may retry after sleeping)');
        if (tries >= maxTriesPerEvent) return fail(error, 'Unable to write event (retry limit exceeded!)');
        await sleep(tries === 1 ? Math.floor(eventRetrySleepMs * random()) : eventRetrySleepMs);
      }
    }
  };
  let queued = 0;

  const record = (involvedObject: V1ObjectReference, type: EventType, reason: string, message: string) => {
    const now = clock.now();
    const timestamp = new Date(now);
    const event: CoreV1Event = {
      metadata: {
        name: eventName(involvedObject, nextNanos(now)),
        namespace: involvedObject.namespace || 'default',
      },
      involvedObject,
      type,
      reason,
      message,
      source: { component: 'kubelet', host: options.nodeName },
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: options.nodeName,
    };
    const correlated = correlator.correlate(event);
    if (queued >= maxQueuedEvents) {
      fail(undefined, 'Unable to record event: too many queued events, dropped event');
      return;
    }
    queued++;
    queue = queue.then(() => writeWithRetries(correlated)).finally(() => queued--);
  };

  return {
    pod: (pod, type, reason, message, fieldPath) => {
      const namespace = pod.metadata.namespace ?? 'default';
      record(
        objectReference({
          apiVersion: 'v1',
          kind: 'Pod',
          namespace,
          name: pod.metadata.name ?? '',
          uid: pod.metadata.uid,
          resourceVersion: pod.metadata.resourceVersion,
          fieldPath,
        }),
        type,
        reason,
        message,
      );
    },
    claim: (claim, type, reason, message) =>
      record(
        objectReference({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: claim.metadata?.namespace ?? 'default',
          name: claim.metadata?.name ?? '',
          uid: claim.metadata?.uid,
          resourceVersion: claim.metadata?.resourceVersion,
        }),
        type,
        reason,
        message,
      ),
    // Upstream's nodeRef: kind Node, the node name as name and uid, no namespace (Events go to default).
    node: (type, reason, message) =>
      record(
        objectReference({ kind: 'Node', name: options.nodeName, uid: options.nodeName }),
        type,
        reason,
        message,
      ),
    flush: () => queue,
    // What the correlator holds about the pod (EventCorrelator.forgetObject).
    forgetPod: (uid) => correlator.forgetObject(uid),
  };
}

/**
 * An Event's involvedObject with its fields always in one order, an absent or empty one undefined
 * (JSON leaves it out, as Go's omitempty does). With a differently shaped reference for a pod with
 * or without a container's fieldPath, a claim and the node, V8 dropped the event correlator's
 * compiled key functions at each full collection and compiled them again (`--trace-deopt`:
 * "dependent field type changed", every 13-17 s under pod churn).
 */
function objectReference(ref: V1ObjectReference): V1ObjectReference {
  return {
    kind: ref.kind,
    namespace: ref.namespace || undefined,
    name: ref.name,
    uid: ref.uid,
    apiVersion: ref.apiVersion,
    resourceVersion: ref.resourceVersion || undefined,
    fieldPath: ref.fieldPath || undefined,
  };
}

/**
 * An HTTP answer (client-go's StatusError): the same request would be refused again. Anything
 * else (refused connection, TLS, a client certificate not written yet) is worth another try.
 */
function answeredByServer(error: unknown): boolean {
  return typeof (error as { code?: unknown } | undefined)?.code === 'number';
}

/** Upstream's Event name: the object's name and the time in Unix nanoseconds, hex. */
function eventName(object: V1ObjectReference, nanos: bigint): string {
  return `${object.name ?? ''}.${nanos.toString(16)}`;
}

/** Pod events only (the Kubelet's recordEvent option); see apiEventSink for node events too. */
export function apiEventRecorder(core: EventApi, options: ApiEventRecorderOptions): PodEventRecorder {
  return apiEventSink(core, options).pod;
}
