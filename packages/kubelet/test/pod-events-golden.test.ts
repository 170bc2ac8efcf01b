import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Pod } from '../src/api/pod-types';
import { runtimeClassHandlerLookup } from '../src/cri/runtime-class';
import { busybox, type EngineHarness, startEngine } from './helpers/engine';

/**
 * Golden test of the pod events against what upstream's kubelet v1.36.3 posted for the same pods
 * (fidelity/ in the repository): the pods of pods-v1.36 run on the engine over the fake CRI
 * runtime and the distinct events each got (fieldPath, type, reason, message) are compared with
 * events.upstream.yaml. Normalised: counts are not compared (they are timing dependent); the
 * fixture's image `localhost/busybox:1` is the fake's busybox; the service-account token volume
 * is dropped (no token source here); commands that keep running become `sleep 3600` (the fake's
 * shell runs no `trap`/`while`), and the sidecar's startup probe of `full` is dropped (probes
 * and their Unhealthy events are not the pod syncer's).
 */
const fidelity = new URL('../../../fidelity/', import.meta.url);
const load = (path: string) =>
  parseAllDocuments(readFileSync(new URL(path, fidelity), 'utf8')).flatMap((d) => d.toJS() ?? []);
const fixtureImage = 'localhost/busybox:1';

interface UpstreamEvent {
  object: string;
  fieldPath?: string;
  type: string;
  reason: string;
  message: string;
}

const compared = [
  'badimage',
  'crashy',
  'done',
  'full',
  'hostusers-false',
  'nonroot',
  'runtimeclass',
  'sec-default',
  'sec-unsafe-sysctl',
  'selinux-level',
];

function runnable(stored: Pod): Pod {
  const pod = structuredClone(stored);
  pod.metadata.namespace = 'fid';
  pod.spec.volumes = (pod.spec.volumes ?? []).filter((v) => !v.name.startsWith('kube-api-access-'));
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    if (c.image === fixtureImage) c.image = busybox;
    c.volumeMounts = (c.volumeMounts ?? []).filter((m) => !m.name.startsWith('kube-api-access-'));
    const script = c.command?.[2] ?? '';
    if (/trap|sleep 3600|while/.test(script)) c.command = ['sh', '-c', 'sleep 3600'];
    delete c.startupProbe;
  }
  return pod;
}

const key = (e: Omit<UpstreamEvent, 'object'>) => `${e.fieldPath ?? '-'} ${e.type} ${e.reason}: ${e.message}`;

let h: EngineHarness;
const ours = new Map<string, Set<string>>();

beforeAll(async () => {
  h = await startEngine(
    {
      // The node the pods were bound to when recorded: admission checks spec.nodeName.
      node: { name: 'n-stored' },
      api: {
        recordEvent: (pod, type, reason, message, fieldPath) => {
          const name = pod.metadata.name ?? '';
          const set = ours.get(name) ?? new Set<string>();
          set.add(key({ fieldPath, type, reason, message: message.replaceAll(busybox, fixtureImage) }));
          ours.set(name, set);
        },
        runtimeHandler: runtimeClassHandlerLookup(async (name) =>
          name === 'runc' ? { handler: 'runc' } : undefined,
        ),
      },
    },
    { runtimeOnFakeClock: true },
  );
  // The fixture's namespace objects (README of pod-status-v1.36).
  h.configMaps.set('fid/cfg', { metadata: { name: 'cfg', namespace: 'fid' }, data: { greeting: 'hello' } });
  h.secrets.set('fid/sec', {
    metadata: { name: 'sec', namespace: 'fid' },
    data: { password: Buffer.from('s3cret').toString('base64') },
  });
  const stored = (load('pods-v1.36/pods.yaml') as Pod[]).filter((p) => compared.includes(p.metadata.name!));
  expect(stored.map((p) => p.metadata.name).sort()).toEqual([...compared].sort());
  for (const pod of stored) h.kubelet.addPod(runnable(pod));
  await h.settleThroughRelists();
  // crashy crashed and is held back (BackOff); past its back-off it runs (and crashes) again.
  h.clock.advance(300_000);
  h.kubelet.resyncPods(h.kubelet.getPods());
  await h.settleThroughRelists();
}, 120_000);

afterAll(async () => h?.close());

describe("the pod syncer's events match upstream v1.36.3's for the same pods", () => {
  const upstream = load('pod-status-v1.36/events.upstream.yaml') as UpstreamEvent[];
  for (const name of compared) {
    it(name, () => {
      const expected = new Set(upstream.filter((e) => e.object === `Pod/${name}`).map(key));
      expect([...(ours.get(name) ?? [])].sort()).toEqual([...expected].sort());
    });
  }
});
