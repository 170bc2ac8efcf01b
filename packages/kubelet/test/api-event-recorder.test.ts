import { CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import { coreV1Requests } from '@nodeagent/informer';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCorrelator } from '../src/events/event-correlator';
import {
  apiEventRecorder,
  apiEventSink,
  type EventApi,
  type EventWriteFailure,
  eventRetrySleepMs,
  maxQueuedEvents,
  maxTriesPerEvent,
} from '../src/sources/api-event-recorder';
import { startEngine, testPod } from './helpers/engine';
import { podWarningEvent } from './helpers/pod-warning-event';

let server: ApiServer;
let core: CoreV1Api;
beforeAll(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server?.close();
});

describe('apiEventRecorder', () => {
  it('posts a core/v1 Event about the pod as upstream kubelet does', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 20, 0, 0));
    const errors: unknown[] = [];
    const record = apiEventRecorder(core, { nodeName: 'node-e', clock, onError: (e) => errors.push(e) });
    const pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-e1' }, spec: { containers: [] } };
    record(pod, 'Warning', 'SysctlForbidden', 'forbidden sysctl: "kernel.msgmax" not allowlisted');
    const deadline = Date.now() + 30_000;
    let items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    while (items.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    }
    expect(errors).toEqual([]);
    expect(items).toHaveLength(1);
    const [event] = items;
    expect(event!.metadata.name).toBe(`web.${(BigInt(clock.now()) * 1_000_000n).toString(16)}`);
    expect(event).toMatchObject({
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'uid-e1', apiVersion: 'v1' },
      type: 'Warning',
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
      source: { component: 'kubelet', host: 'node-e' },
      count: 1,
    });
  });
});

describe('apiEventSink (upstream correlation and node events)', () => {
  it('bumps count and lastTimestamp of one Event for a repeat, keeps fieldPath, writes node events', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 21, 0, 0));
    const errors: unknown[] = [];
    const sink = apiEventSink(core, { nodeName: 'node-f', clock, onError: (e) => errors.push(e) });
    const pod = { metadata: { name: 'loop', namespace: 'default', uid: 'uid-f1' }, spec: { containers: [] } };
    const backOff = 'Back-off restarting failed container c in pod loop_default(uid-f1)';
    sink.pod(pod, 'Warning', 'BackOff', backOff, 'spec.containers{c}');
    clock.advance(10_000);
    sink.pod(pod, 'Warning', 'BackOff', backOff, 'spec.containers{c}');
    clock.advance(20_000);
    sink.pod(pod, 'Warning', 'BackOff', backOff, 'spec.containers{c}');
    sink.pod(pod, 'Normal', 'Started', 'Container started', 'spec.containers{c}');
    sink.node('Normal', 'Starting', 'Starting kubelet.');
    await sink.flush();
    expect(errors).toEqual([]);
    const items = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter(
      (e) => e.involvedObject.name === 'loop' || e.involvedObject.name === 'node-f',
    );
    const backOffs = items.filter((e) => e.reason === 'BackOff');
    expect(backOffs).toHaveLength(1);
    expect(backOffs[0]).toMatchObject({
      involvedObject: { kind: 'Pod', name: 'loop', uid: 'uid-f1', fieldPath: 'spec.containers{c}' },
      type: 'Warning',
      message: backOff,
      count: 3,
      source: { component: 'kubelet', host: 'node-f' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-f',
    });
    expect(
      new Date(backOffs[0]!.lastTimestamp!).getTime() - new Date(backOffs[0]!.firstTimestamp!).getTime(),
    ).toBe(30_000);
    expect(items.find((e) => e.reason === 'Started')?.count).toBe(1);
    expect(items.find((e) => e.reason === 'Starting')).toMatchObject({
      involvedObject: { kind: 'Node', name: 'node-f', uid: 'node-f' },
      type: 'Normal',
      message: 'Starting kubelet.',
    });
  });

  it('throttles an identical event beyond the spam burst (25, then one every 5 minutes)', () => {
    const clock = new FakeClock(0);
    const correlator = new EventCorrelator(() => clock.now());
    const event = (message: string) => podWarningEvent(message, { reason: 'Unhealthy' });
    const actions = Array.from(
      { length: 27 },
      () => correlator.correlate(event('Liveness probe failed: ')).action,
    );
    expect(actions[0]).toBe('create');
    expect(actions.slice(1, 25).every((a) => a === 'patch')).toBe(true);
    expect(actions.slice(25)).toEqual(['skip', 'skip']);
    clock.advance(300_000);
    const next = correlator.correlate(event('Liveness probe failed: '));
    // The skipped repeats were counted, as upstream's observe comes before the filter.
    expect(next).toMatchObject({ action: 'patch', patch: { count: 28 } });
  });

  it('combines more than 10 different messages of one reason about one object', () => {
    const correlator = new EventCorrelator(() => 0);
    const results = Array.from({ length: 11 }, (_, i) =>
      correlator.correlate(podWarningEvent(`Error: ${i}`, { metadata: { name: `p.${i}` } })),
    );
    expect(results.slice(0, 9).every((r) => r.action === 'create')).toBe(true);
    expect(results[9]).toMatchObject({
      action: 'create',
      event: { message: '(combined from similar events): Error: 9' },
    });
    expect(results[10]).toMatchObject({
      action: 'patch',
      event: { message: '(combined from similar events): Error: 10', metadata: { name: 'p.9' } },
      patch: { count: 2 },
    });
  });
});

describe('the engine through apiEventSink (in-process API server)', () => {
  it('a crash loop keeps one Event object per event, its count rising, with fieldPath', async () => {
    const errors: unknown[] = [];
    const recorded: string[] = [];
    let sink: ReturnType<typeof apiEventSink> | undefined;
    const h = await startEngine(
      {
        api: {
          recordEvent: (...args) => {
            recorded.push(args[2]);
            sink?.pod(...args);
          },
        },
      },
      { runtimeOnFakeClock: true },
    );
    try {
      sink = apiEventSink(core, { nodeName: 'node-g', clock: h.clock, onError: (e) => errors.push(e) });
      const pod = testPod({ restartPolicy: 'Always' }, 'crashy-g');
      pod.spec.containers[0]!.command = ['sh', '-c', 'exit 3'];
      h.kubelet.addPod(pod);
      await h.settleThroughRelists();
      for (let round = 0; round < 3; round++) {
        h.clock.advance(300_000);
        h.kubelet.resyncPods([pod]);
        await h.settleThroughRelists();
      }
      await sink.flush();
      expect(errors).toEqual([]);
      const items = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter(
        (e) => e.involvedObject.name === 'crashy-g',
      );
      const byReason = (reason: string) => items.filter((e) => e.reason === reason);
      for (const reason of ['Pulled', 'Created', 'Started', 'BackOff']) {
        expect(byReason(reason), reason).toHaveLength(1);
        expect(byReason(reason)[0]!.involvedObject.fieldPath).toBe('spec.containers{app}');
      }
      // One Event object counting every time the kubelet recorded it.
      expect(recorded.filter((r) => r === 'Started').length).toBeGreaterThanOrEqual(4);
      for (const reason of ['Started', 'BackOff'])
        expect(byReason(reason)[0]!.count).toBe(recorded.filter((r) => r === reason).length);
      expect(byReason('BackOff')[0]).toMatchObject({
        type: 'Warning',
        message: `Back-off restarting failed container app in pod crashy-g_default(${pod.metadata.uid})`,
      });
    } finally {
      await h.close();
    }
  });
});

describe('apiEventSink while the API server cannot be reached (client-go broadcaster retries)', () => {
  /** Real transport errors: the request layer dialling an API server that has gone. */
  let unreachable: EventApi;
  beforeAll(async () => {
    const gone = await startApiServer();
    const kubeConfig = gone.kubeConfig();
    await gone.close();
    unreachable = coreV1Requests(kubeConfig);
  });
  const pod = (name: string) => ({
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [] },
  });
  /** The real server once `up()` says so, the gone one before. */
  const switched = (up: () => boolean): EventApi => ({
    createNamespacedEvent: (p, o) => (up() ? core : unreachable).createNamespacedEvent(p, o),
  });

  it('keeps events made before the API server answers and writes each once it does', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 25, 8, 0, 0));
    const failures: EventWriteFailure[] = [];
    const sleeps: number[] = [];
    let up = false;
    const sink = apiEventSink(
      switched(() => up),
      {
        nodeName: 'node-r',
        clock,
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
          if (sleeps.length === 3) up = true;
        },
        onError: (_e, failure) => failures.push(failure),
      },
    );
    sink.node('Normal', 'Starting', 'Starting kubelet.');
    sink.pod(pod('static-r'), 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
    await sink.flush();
    // The first wait is a random part of the sleep (0.5 here), then the full sleep.
    expect(sleeps).toEqual([eventRetrySleepMs / 2, eventRetrySleepMs, eventRetrySleepMs]);
    expect(failures).toEqual(Array(3).fill('Unable to write event (may retry after sleeping)'));
    const items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    expect(items.filter((e) => e.involvedObject.name === 'node-r' && e.reason === 'Starting')).toHaveLength(
      1,
    );
    expect(items.filter((e) => e.involvedObject.name === 'static-r' && e.reason === 'Pulled')).toHaveLength(
      1,
    );
  });

  it('holds events made before the client certificate exists, spending no tries, and writes them after', async () => {
    const failures: EventWriteFailure[] = [];
    const sleeps: number[] = [];
    let issue = () => {};
    const certificate = new Promise<void>((resolve) => {
      issue = resolve;
    });
    const attempts: string[] = [];
    const sink = apiEventSink(
      {
        createNamespacedEvent: (p, o) => {
          attempts.push(p.body.reason ?? '');
          return core.createNamespacedEvent(p, o);
        },
      },
      {
        nodeName: 'node-b',
        clock: new FakeClock(Date.UTC(2026, 10, 25, 8, 30, 0)),
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        onError: (_e, failure) => failures.push(failure),
        writableAfter: certificate,
      },
    );
    sink.node('Normal', 'Starting', 'Starting kubelet.');
    sink.node('Warning', 'CgroupV1', 'cgroup v1 support is in maintenance mode, please migrate to cgroup v2');
    // However long the certificate takes: nothing is attempted, nothing fails.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts).toEqual([]);
    issue();
    await sink.flush();
    expect(attempts).toEqual(['Starting', 'CgroupV1']);
    expect(failures).toEqual([]);
    expect(sleeps).toEqual([]);
    const items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    expect(items.filter((e) => e.involvedObject.name === 'node-b').map((e) => e.reason)).toEqual([
      'Starting',
      'CgroupV1',
    ]);
  });

  it('gives an event up after maxTriesPerEvent and goes on to the next', async () => {
    const failures: EventWriteFailure[] = [];
    const sleeps: number[] = [];
    let up = false;
    const sink = apiEventSink(
      switched(() => up),
      {
        nodeName: 'node-s',
        clock: new FakeClock(Date.UTC(2026, 10, 25, 9, 0, 0)),
        random: () => 0,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        onError: (_e, failure) => {
          failures.push(failure);
          if (failure === 'Unable to write event (retry limit exceeded!)') up = true;
        },
      },
    );
    sink.pod(pod('lost-s'), 'Normal', 'Pulled', 'lost');
    sink.pod(pod('kept-s'), 'Normal', 'Pulled', 'kept');
    await sink.flush();
    expect(sleeps).toHaveLength(maxTriesPerEvent - 1);
    expect(failures.filter((f) => f === 'Unable to write event (may retry after sleeping)')).toHaveLength(
      maxTriesPerEvent,
    );
    expect(failures.at(-1)).toBe('Unable to write event (retry limit exceeded!)');
    const items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    expect(items.filter((e) => e.involvedObject.name === 'lost-s')).toHaveLength(0);
    expect(items.filter((e) => e.involvedObject.name === 'kept-s')).toHaveLength(1);
  });

  it('does not retry what the API server refused (no such namespace)', async () => {
    const failures: EventWriteFailure[] = [];
    const sleeps: number[] = [];
    const sink = apiEventSink(core, {
      nodeName: 'node-t',
      clock: new FakeClock(Date.UTC(2026, 10, 25, 10, 0, 0)),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onError: (_e, failure) => failures.push(failure),
    });
    const orphan = { ...pod('orphan-t'), metadata: { ...pod('orphan-t').metadata, namespace: 'no-such-ns' } };
    sink.pod(orphan, 'Normal', 'Pulled', 'refused');
    await sink.flush();
    expect(failures).toEqual(['Server rejected event (will not retry!)']);
    expect(sleeps).toEqual([]);
  });

  it('gives every involvedObject one shape: the same fields in the same order, absent ones undefined', async () => {
    const bodies: CoreV1Event[] = [];
    const capture: EventApi = {
      createNamespacedEvent: async (p) => {
        bodies.push(p.body);
        return p.body;
      },
    };
    const sink = apiEventSink(capture, {
      nodeName: 'node-v',
      clock: new FakeClock(Date.UTC(2026, 10, 25, 12)),
    });
    const withVersion = { ...pod('rv-v'), metadata: { ...pod('rv-v').metadata, resourceVersion: '7' } };
    sink.pod(pod('plain-v'), 'Normal', 'Scheduled', 'plain');
    sink.pod(withVersion, 'Normal', 'Pulled', 'with a container', 'spec.containers{c}');
    sink.claim(
      { metadata: { name: 'data-v', namespace: 'default', uid: 'uid-data-v' } },
      'Normal',
      'Resized',
      'r',
    );
    sink.node('Normal', 'Starting', 'Starting kubelet.');
    await sink.flush();
    const shapes = new Set(bodies.map((b) => Object.keys(b.involvedObject).join(',')));
    expect(shapes).toEqual(new Set(['kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath']));
    const [plain, withContainer, claim, node] = bodies.map((b) => b.involvedObject);
    expect(plain).toEqual({
      kind: 'Pod',
      namespace: 'default',
      name: 'plain-v',
      uid: 'uid-plain-v',
      apiVersion: 'v1',
    });
    expect(withContainer).toMatchObject({ resourceVersion: '7', fieldPath: 'spec.containers{c}' });
    expect(claim).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'data-v', uid: 'uid-data-v' });
    expect(node).toEqual({ kind: 'Node', name: 'node-v', uid: 'node-v' });
    // What goes on the wire leaves the absent fields out.
    expect(JSON.parse(JSON.stringify(node))).toStrictEqual({ kind: 'Node', name: 'node-v', uid: 'node-v' });
  });

  it(`holds at most ${maxQueuedEvents} events while one waits, and drops the rest`, async () => {
    const failures: EventWriteFailure[] = [];
    const sink = apiEventSink(unreachable, {
      nodeName: 'node-u',
      clock: new FakeClock(Date.UTC(2026, 10, 25, 11, 0, 0)),
      eventRecordQPS: 0,
      // The first event's retry never ends its wait: every later event stays queued behind it.
      sleep: () => new Promise<void>(() => {}),
      onError: (_e, failure) => failures.push(failure),
    });
    for (let i = 0; i <= maxQueuedEvents; i++) sink.pod(pod(`q-${i}`), 'Normal', 'Pulled', `event ${i}`);
    expect(failures.filter((f) => f.startsWith('Unable to record event'))).toEqual([
      'Unable to record event: too many queued events, dropped event',
    ]);
  });
});
