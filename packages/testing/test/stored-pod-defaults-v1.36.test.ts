import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';
import { stripDefaults, withoutTokenVolume } from './fixtures/pod-defaults-stripper';
import { STORED_PODS_V136_FILE, type StoredPod, storedPods } from './fixtures/stored-pods';

/**
 * The recording's inputs (pods-v1.36/README.md): the v1.32 recording's pods with metadata reduced
 * to name/namespace/labels and the token volume taken out, everything else verbatim; the 15 new
 * pods as a user writes them, i.e. the stored pod without what defaulting added.
 */
function v132Input(pod: StoredPod): StoredPod {
  const input = withoutTokenVolume(structuredClone(pod));
  const { name, namespace, labels } = input.metadata;
  return { ...input, metadata: { name, namespace, ...(labels ? { labels } : {}) } };
}

function newPodInput(stored: StoredPod): StoredPod {
  const input = stripDefaults(withoutTokenVolume(structuredClone(stored)));
  const { name, namespace, labels } = input.metadata;
  input.metadata = { name, namespace, ...(labels ? { labels } : {}) };
  // The one input the server changed beyond defaults: ContainerStopSignals is alpha (off) in
  // v1.36, so the stopSignal that was sent is dropped, and with it the emptied lifecycle.
  if (name === 'stop-signal') input.spec.containers[0].lifecycle = { stopSignal: 'SIGUSR1' };
  return input;
}

describe('in-process API server against the 31 pods a real v1.36.3 server stored', () => {
  let server: ApiServer;
  const v132 = storedPods();
  const v136 = storedPods(STORED_PODS_V136_FILE);
  const v132Names = new Set(v132.map((p) => p.metadata.name));
  const byName = new Map(v136.map((p) => [p.metadata.name as string, p]));

  beforeAll(async () => {
    server = await startApiServer();
    server.registry.create(server.resource('v1', 'namespaces'), undefined, { metadata: { name: 'stored' } });
  });
  afterAll(async () => {
    await server.close();
  });

  const create = async (input: StoredPod) => {
    const res = await fetch(`${server.url}/api/v1/namespaces/stored/pods?fieldValidation=Strict`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(input),
    });
    return { status: res.status, pod: (await res.json()) as StoredPod };
  };

  /** What the real server stored, less its token volume (the in-process server adds none). */
  const expectedFor = (name: string) => withoutTokenVolume(structuredClone(byName.get(name)));

  it('reads the 16 pods of v1.32 and 15 new ones, all at generation 1', () => {
    expect(v136).toHaveLength(31);
    expect(v132.every((p) => byName.has(p.metadata.name))).toBe(true);
    expect(v136.filter((p) => !v132Names.has(p.metadata.name))).toHaveLength(15);
    expect(v136.every((p) => p.metadata.generation === 1)).toBe(true);
  });

  for (const old of v132) {
    it(`stores v1.32's ${old.metadata.name} as v1.36 did`, async () => {
      const { status, pod } = await create(v132Input(old));
      expect(status, JSON.stringify(pod)).toBe(201);
      const expected = expectedFor(old.metadata.name);
      expect(pod.spec).toEqual(expected.spec);
      expect(pod.metadata.generation).toBe(expected.metadata.generation);
      expect(pod.metadata.labels).toEqual(expected.metadata.labels);
    });
  }

  for (const stored of v136.filter((p) => !v132Names.has(p.metadata.name))) {
    it(`stores the new pod ${stored.metadata.name} as v1.36 did`, async () => {
      const expected = expectedFor(stored.metadata.name);
      const input = newPodInput(stored);
      const { status, pod } = await create(input);
      expect(status, JSON.stringify(pod)).toBe(201);
      expect(pod.spec).toEqual(expected.spec);
      expect(pod.metadata.generation).toBe(1);
    });
  }

  it('fills the defaults the new fields have: fileKeyRef optional, image volume pullPolicy, sidecar probe', async () => {
    const input = newPodInput(byName.get('env-file'));
    expect(input.spec.containers[0].env[0].valueFrom.fileKeyRef.optional).toBeUndefined();
    const sidecar = newPodInput(byName.get('sidecar-readiness')).spec.initContainers[0].readinessProbe;
    expect(sidecar.failureThreshold).toBeUndefined();
    const image = newPodInput(byName.get('image-volume')).spec.volumes[0].image;
    expect(image.pullPolicy).toBeUndefined();
  });

  it('adds the token volume a real server adds when asked to (serviceAccountTokenVolume)', async () => {
    const real = await startApiServer({ serviceAccountTokenVolume: true });
    try {
      real.registry.create(real.resource('v1', 'namespaces'), undefined, { metadata: { name: 'stored' } });
      for (const stored of v136) {
        const input = v132Names.has(stored.metadata.name)
          ? v132Input(v132.find((p) => p.metadata.name === stored.metadata.name))
          : newPodInput(stored);
        const res = await fetch(`${real.url}/api/v1/namespaces/stored/pods`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(input),
        });
        const pod = (await res.json()) as StoredPod;
        expect(res.status, JSON.stringify(pod)).toBe(201);
        // The recording's volume less the source its OpenShift build adds, with this pod's random name.
        const expected = structuredClone(stored);
        const ours = pod.spec.volumes.find((v: StoredPod) => v.name.startsWith('kube-api-access-'));
        expect(ours.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
        const rename = (name: string) => (name.startsWith('kube-api-access-') ? ours.name : name);
        for (const v of expected.spec.volumes) {
          v.name = rename(v.name);
          if (v.projected)
            v.projected.sources = v.projected.sources.filter(
              (s: StoredPod) => s.configMap?.name !== 'openshift-service-ca.crt',
            );
        }
        for (const c of [...expected.spec.containers, ...(expected.spec.initContainers ?? [])])
          for (const m of c.volumeMounts ?? []) m.name = rename(m.name);
        expect(pod.spec).toEqual(expected.spec);
      }
      // What the volume reads exists: the root CA publisher's ConfigMap.
      const ca = real.registry.get(real.resource('v1', 'configmaps'), 'stored', 'kube-root-ca.crt');
      expect((ca.data as Record<string, string>)['ca.crt']).toContain('BEGIN CERTIFICATE');
      // No token where the pod opts out, nor in a mirror pod, nor over a mount already there.
      const pods = real.resource('v1', 'pods');
      const volumesOf = (
        name: string,
        extra: Record<string, unknown>,
        metadata: Record<string, unknown> = {},
      ) =>
        (
          real.registry.create(pods, 'stored', {
            metadata: { name, ...metadata },
            spec: { nodeName: 'n', containers: [{ name: 'c', image: 'i:1' }], ...extra },
          }).spec as { volumes?: unknown[] }
        ).volumes;
      expect(volumesOf('opted-out', { automountServiceAccountToken: false })).toBeUndefined();
      expect(
        volumesOf('mirror', {}, { annotations: { 'kubernetes.io/config.mirror': 'x' } }),
      ).toBeUndefined();
      expect(
        volumesOf('own-mount', {
          volumes: [{ name: 'mine', emptyDir: {} }],
          containers: [
            {
              name: 'c',
              image: 'i:1',
              volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
            },
          ],
        }),
      ).toEqual([{ name: 'mine', emptyDir: {} }]);
    } finally {
      await real.close();
    }
  });

  it('computes the QoS class from pod-level resources when the pod sets them', async () => {
    const pod = server.registry.get(server.resource('v1', 'pods'), 'stored', 'pod-resources');
    expect((pod.status as { qosClass: string }).qosClass).toBe('Burstable');
    const guaranteed = await create({
      metadata: { name: 'pod-level-guaranteed' },
      spec: {
        resources: { limits: { cpu: '1', memory: '64Mi' } },
        containers: [{ name: 'c', image: 'busybox:1' }],
      },
    });
    expect(guaranteed.status).toBe(201);
    // Pod-level limits default the pod-level requests, so requests equal limits: Guaranteed.
    expect(guaranteed.pod.spec.resources).toEqual({
      limits: { cpu: '1', memory: '64Mi' },
      requests: { cpu: '1', memory: '64Mi' },
    });
    expect(guaranteed.pod.status.qosClass).toBe('Guaranteed');
    // A request left out at pod level, which containers do request, is their effective request:
    // regular containers and sidecars summed, a larger ordinary init container winning.
    const summed = await create({
      metadata: { name: 'pod-level-summed' },
      spec: {
        resources: { limits: { cpu: '1', memory: '256Mi' } },
        initContainers: [
          {
            name: 'sidecar',
            image: 'busybox:1',
            restartPolicy: 'Always',
            resources: { requests: { memory: '16Mi' } },
          },
          { name: 'setup', image: 'busybox:1', resources: { requests: { memory: '128Mi' } } },
        ],
        containers: [
          { name: 'a', image: 'busybox:1', resources: { requests: { cpu: '50m', memory: '32Mi' } } },
          { name: 'b', image: 'busybox:1', resources: { requests: { cpu: '100m' } } },
        ],
      },
    });
    expect(summed.status, JSON.stringify(summed.pod)).toBe(201);
    expect(summed.pod.spec.resources.requests).toEqual({ cpu: '150m', memory: '144Mi' });
    expect(summed.pod.status.qosClass).toBe('Burstable');
  });
});
