/**
 * What the event correlator's three LRU caches (client-go's 4096 entries each) hold per event,
 * results in bench-results/kubelet-event-correlator.json. Events go through the kubelet's own
 * recorder (apiEventSink, writes answered at once) as a pod churn makes them: per pod Pulled,
 * Created, Started, a readiness probe failure and Killing, with generated names and uids. The
 * heap is read after full collections, before and after the events; below the bound every event
 * is an entry of each cache, above it (12,000 events) the caches are full. The same churn again as
 * the kubelet runs it: each pod forgotten (sink.forgetPod) once it is removed, 110 pods alive at
 * any time, so the caches hold the live pods' events whatever the churn was.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { systemClock } from '@nodeagent/primitives';
import type { Pod } from '../src/entries/api';
import { maxLruCacheEntries } from '../src/events/event-correlator';
import { apiEventSink } from '../src/sources/api-event-recorder';

const root = fileURLToPath(new URL('../../../', import.meta.url));
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

/** A churned pod as the soak's PodChurn makes them: generated name, fresh uid, a resourceVersion. */
function churnPod(i: number): Pod {
  return {
    metadata: {
      name: `churn-${i}-${Math.random().toString(36).slice(2, 7)}`,
      namespace: 'default',
      uid: randomUUID(),
      resourceVersion: String(100_000 + i * 7),
    },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36.1' }] },
  };
}

/** Pods alive at once when removed pods are forgotten: the soak's 110. */
const livePods = 110;

/** The heap the correlator (and the recorder around it) keeps after `events` pod events. */
async function retained(
  events: number,
  forgetRemoved: boolean,
): Promise<{ events: number; forgetRemoved: boolean; retainedBytes: number; bytesPerEntry: number }> {
  let now = Date.parse('2025-01-01T00:00:00Z');
  const clock = { ...systemClock, now: () => now };
  const api = {
    createNamespacedEvent: async () => ({}) as never,
    patchNamespacedEvent: async () => ({}) as never,
  };
  const before = await heapUsed();
  const sink = apiEventSink(api, { nodeName: 'soak-node', clock, eventRecordQPS: 0 });
  const field = 'spec.containers{app}';
  const alive: string[] = [];
  for (let i = 0, made = 0; made < events; i++) {
    const pod = churnPod(i);
    alive.push(pod.metadata.uid ?? '');
    if (forgetRemoved && alive.length > livePods) sink.forgetPod(alive.shift() ?? '');
    const per: [string, string, string][] = [
      [
        'Normal',
        'Pulled',
        'Container image "busybox:1.36.1" already present on machine and can be accessed by the pod',
      ],
      ['Normal', 'Created', 'Container created'],
      ['Normal', 'Started', 'Container started'],
      [
        'Warning',
        'Unhealthy',
        `Readiness probe failed: cat: can't open '/tmp/ready-${i}': No such file or directory\n`,
      ],
      ['Normal', 'Killing', 'Stopping container app'],
    ];
    for (const [type, reason, message] of per) {
      if (made++ >= events) break;
      now += 400;
      sink.pod(pod, type as 'Normal' | 'Warning', reason, message, field);
    }
  }
  await sink.flush();
  const after = await heapUsed();
  // Five events a pod: with removed pods forgotten, the caches hold the live pods' events.
  const entries = Math.min(events, forgetRemoved ? livePods * 5 : maxLruCacheEntries);
  // Keep the sink (and its correlator) alive across the reading.
  if (typeof sink.flush !== 'function') throw new Error('unreachable');
  return {
    events,
    forgetRemoved,
    retainedBytes: after - before,
    bytesPerEntry: Math.round((after - before) / entries),
  };
}

const results = [];
for (const [events, forgetRemoved] of [
  [4000, false],
  [12_000, false],
  [12_000, true],
] as const) {
  // Best of three: the smallest reading is the one least disturbed by V8's own bookkeeping.
  const runs = [];
  for (let r = 0; r < 3; r++) runs.push(await retained(events, forgetRemoved));
  const best = runs.reduce((a, b) => (b.retainedBytes < a.retainedBytes ? b : a));
  results.push(best);
  console.log(
    `${events} events${forgetRemoved ? `, removed pods forgotten (${livePods} alive)` : ''}: ` +
      `${best.retainedBytes} bytes retained, ${best.bytesPerEntry} bytes per cached event`,
  );
}
mkdirSync(`${root}bench-results`, { recursive: true });
writeFileSync(
  `${root}bench-results/kubelet-event-correlator.json`,
  `${JSON.stringify({ node: process.version, cacheEntries: maxLruCacheEntries, results }, null, 2)}\n`,
);
