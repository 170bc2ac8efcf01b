import { CoreV1Api } from '@kubernetes/client-node';
import { coreV1Requests } from '@nodeagent/informer';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { ObjectNotRegisteredError } from '../src/objects/object-errors';
import { objectTtlFromNode } from '../src/objects/object-ttl-annotation';
import { type ChangeDetectionStrategy, PodObjectManager } from '../src/objects/pod-object-manager';
import { podConfigMapNames, podSecretNames } from '../src/objects/referenced-objects';
import { waitFor } from './helpers/wait-for';

let server: ApiServer;
/** Requests the server received, as "METHOD path" (no query: a collection path is a LIST or a WATCH). */
const requests: string[] = [];
const managers: PodObjectManager[] = [];

beforeAll(async () => {
  server = await startApiServer({ audit: (_user, method, path) => requests.push(`${method} ${path}`) });
});
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop();
});
afterAll(async () => {
  await server?.close();
});

const core = () => coreV1Requests(server.kubeConfig());
/** The test's own writes, as an administrator would make them. */
const admin = () => server.kubeConfig().makeApiClient(CoreV1Api);

/** GETs of one named ConfigMap or Secret, the requests the Cache and Get strategies make. */
function namedGets(resource: 'configmaps' | 'secrets', name: string): number {
  return requests.filter((r) => r === `GET /api/v1/namespaces/default/${resource}/${name}`).length;
}

function manager(
  strategy: ChangeDetectionStrategy,
  extra: { clock?: FakeClock; nodeTtlMs?: () => number | undefined } = {},
) {
  const made = new PodObjectManager({
    strategy,
    kubeConfig: server.kubeConfig(),
    core: core(),
    resyncIntervalMs: 60_000,
    ...extra,
  });
  managers.push(made);
  return made;
}

let podCount = 0;
function pod(configMap: string, secret?: string): Pod {
  podCount++;
  return {
    metadata: { name: `p${podCount}`, namespace: 'default', uid: `uid-${podCount}` },
    spec: {
      containers: [
        { name: 'c', image: 'busybox', ...(secret ? { envFrom: [{ secretRef: { name: secret } }] } : {}) },
      ],
      volumes: [{ name: 'cfg', configMap: { name: configMap } }],
    },
  };
}

async function createConfigMap(name: string, data: Record<string, string>, immutable?: boolean) {
  await admin().createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name }, data, immutable },
  });
}

async function updateConfigMap(name: string, data: Record<string, string>) {
  await admin().replaceNamespacedConfigMap({
    name,
    namespace: 'default',
    body: { metadata: { name }, data },
  });
}

describe('the objects a pod references (upstream VisitPodConfigmapNames, VisitPodSecretNames)', () => {
  it('finds env, envFrom, volume, projected and pull-secret references of every container', () => {
    const p: Pod = {
      metadata: { name: 'p', namespace: 'default', uid: 'u' },
      spec: {
        imagePullSecrets: [{ name: 'pull' }],
        initContainers: [{ name: 'i', image: 'x', envFrom: [{ configMapRef: { name: 'init-cm' } }] }],
        containers: [
          {
            name: 'c',
            image: 'x',
            env: [
              { name: 'A', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'a' } } },
              { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'b' } } },
            ],
            envFrom: [{ secretRef: { name: 'from-secret' } }],
          },
        ],
        volumes: [
          { name: 'v1', configMap: { name: 'vol-cm' } },
          { name: 'v2', secret: { secretName: 'vol-secret' } },
          {
            name: 'v3',
            projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] },
          },
          { name: 'v4', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi-secret' } } },
          { name: 'v5', downwardAPI: { items: [] } },
        ],
      },
    };
    expect([...podConfigMapNames(p)].sort()).toEqual(['env-cm', 'init-cm', 'proj-cm', 'vol-cm']);
    expect([...podSecretNames(p)].sort()).toEqual([
      'csi-secret',
      'env-secret',
      'from-secret',
      'proj-secret',
      'pull',
      'vol-secret',
    ]);
  });

  it('reads the TTL the Node annotation sets, in whole seconds', () => {
    const node = (ttl?: string) => {
      const annotations: Record<string, string> = {};
      if (ttl !== undefined) annotations['node.alpha.kubernetes.io/ttl'] = ttl;
      return { metadata: { annotations } };
    };
    expect(objectTtlFromNode(node('15'))).toBe(15_000);
    expect(objectTtlFromNode(node('0'))).toBe(0);
    expect(objectTtlFromNode(node('1.5'))).toBeUndefined();
    expect(objectTtlFromNode(node())).toBeUndefined();
  });
});

describe('Watch (the default)', () => {
  it('serves a registered object from its watch: no GET, changes seen, one watch shared by two pods', async () => {
    await createConfigMap('w-shared', { k: 'v1' });
    const objects = manager('Watch');
    const watchesBefore = server.openWatches;
    const first = pod('w-shared');
    const second = pod('w-shared');
    objects.registerPod(first);
    objects.registerPod(second);
    expect((await objects.getConfigMap('default', 'w-shared'))?.data).toEqual({ k: 'v1' });
    expect(server.openWatches - watchesBefore).toBe(1);
    await updateConfigMap('w-shared', { k: 'v2' });
    await waitFor(
      'the change',
      async () => (await objects.getConfigMap('default', 'w-shared'))?.data?.k === 'v2',
    );
    // Steady state: many reads, still no GET of the object.
    for (let i = 0; i < 20; i++) await objects.getConfigMap('default', 'w-shared');
    expect(namedGets('configmaps', 'w-shared')).toBe(0);
    // The watch outlives the first pod and ends with the last.
    objects.unregisterPod(first);
    expect((await objects.getConfigMap('default', 'w-shared'))?.data).toEqual({ k: 'v2' });
    expect(server.openWatches - watchesBefore).toBe(1);
    objects.unregisterPod(second);
    await waitFor('the watch closed', () => server.openWatches === watchesBefore);
    await expect(objects.getConfigMap('default', 'w-shared')).rejects.toBeInstanceOf(
      ObjectNotRegisteredError,
    );
  });

  it('answers undefined for a missing object, and sees it once created', async () => {
    const objects = manager('Watch');
    objects.registerPod(pod('w-later'));
    expect(await objects.getConfigMap('default', 'w-later')).toBeUndefined();
    await createConfigMap('w-later', { k: 'here' });
    await waitFor('the new object', async () => (await objects.getConfigMap('default', 'w-later'))?.data?.k);
    expect(namedGets('configmaps', 'w-later')).toBe(0);
  });

  it('stops watching an immutable object and keeps serving it', async () => {
    await createConfigMap('w-immutable', { k: 'fixed' }, true);
    const objects = manager('Watch');
    const watchesBefore = server.openWatches;
    objects.registerPod(pod('w-immutable'));
    expect((await objects.getConfigMap('default', 'w-immutable'))?.data).toEqual({ k: 'fixed' });
    await waitFor('the watch closed', () => server.openWatches === watchesBefore);
    expect((await objects.getConfigMap('default', 'w-immutable'))?.data).toEqual({ k: 'fixed' });
    expect(namedGets('configmaps', 'w-immutable')).toBe(0);
  });

  it('stops a watch nobody read for five sync periods and starts it again at the next read', async () => {
    await createConfigMap('w-idle', { k: 'v1' });
    const clock = new FakeClock();
    const objects = manager('Watch', { clock });
    const watchesBefore = server.openWatches;
    objects.registerPod(pod('w-idle'));
    await objects.getConfigMap('default', 'w-idle');
    // Four minutes unread: still watched (maxIdleTime is 5 × syncFrequency).
    for (let minute = 0; minute < 4; minute++) clock.advance(60_000);
    expect(server.openWatches - watchesBefore).toBe(1);
    clock.advance(60_000);
    clock.advance(60_000);
    await waitFor('the idle watch closed', () => server.openWatches === watchesBefore);
    await updateConfigMap('w-idle', { k: 'v2' });
    expect((await objects.getConfigMap('default', 'w-idle'))?.data).toEqual({ k: 'v2' });
    expect(server.openWatches - watchesBefore).toBe(1);
    expect(namedGets('configmaps', 'w-idle')).toBe(0);
  });

  it('follows a pod whose spec changed: the new object watched, the dropped one released', async () => {
    await createConfigMap('w-old', { k: 'old' });
    await createConfigMap('w-new', { k: 'new' });
    const objects = manager('Watch');
    const watchesBefore = server.openWatches;
    const p = pod('w-old');
    objects.registerPod(p);
    await objects.getConfigMap('default', 'w-old');
    objects.registerPod({
      ...p,
      spec: { ...p.spec, volumes: [{ name: 'cfg', configMap: { name: 'w-new' } }] },
    });
    expect((await objects.getConfigMap('default', 'w-new'))?.data).toEqual({ k: 'new' });
    await expect(objects.getConfigMap('default', 'w-old')).rejects.toBeInstanceOf(ObjectNotRegisteredError);
    await waitFor('one watch left', () => server.openWatches - watchesBefore === 1);
  });
});

describe('Cache', () => {
  it('GETs at registration and when the TTL has passed, with an injected clock', async () => {
    await createConfigMap('c-ttl', { k: 'v1' });
    const clock = new FakeClock();
    const objects = manager('Cache', { clock });
    const watchesBefore = server.openWatches;
    objects.registerPod(pod('c-ttl'));
    expect((await objects.getConfigMap('default', 'c-ttl'))?.data).toEqual({ k: 'v1' });
    expect(namedGets('configmaps', 'c-ttl')).toBe(1);
    await updateConfigMap('c-ttl', { k: 'v2' });
    clock.advance(59_000);
    expect((await objects.getConfigMap('default', 'c-ttl'))?.data).toEqual({ k: 'v1' });
    expect(namedGets('configmaps', 'c-ttl')).toBe(1);
    clock.advance(1_000);
    expect((await objects.getConfigMap('default', 'c-ttl'))?.data).toEqual({ k: 'v2' });
    expect(namedGets('configmaps', 'c-ttl')).toBe(2);
    // A new pod referencing it makes the next read fetch.
    objects.registerPod(pod('c-ttl'));
    await objects.getConfigMap('default', 'c-ttl');
    expect(namedGets('configmaps', 'c-ttl')).toBe(3);
    expect(server.openWatches).toBe(watchesBefore);
  });

  it("takes its TTL from the Node's annotation when it sets one", async () => {
    await createConfigMap('c-node-ttl', { k: 'v1' });
    const clock = new FakeClock();
    const objects = manager('Cache', { clock, nodeTtlMs: () => 5_000 });
    objects.registerPod(pod('c-node-ttl'));
    await objects.getConfigMap('default', 'c-node-ttl');
    clock.advance(4_999);
    await objects.getConfigMap('default', 'c-node-ttl');
    expect(namedGets('configmaps', 'c-node-ttl')).toBe(1);
    clock.advance(1);
    await objects.getConfigMap('default', 'c-node-ttl');
    expect(namedGets('configmaps', 'c-node-ttl')).toBe(2);
  });

  it('asks again for a missing object at every read, and refuses unregistered ones', async () => {
    const objects = manager('Cache', { clock: new FakeClock() });
    objects.registerPod(pod('c-missing', 's-missing'));
    expect(await objects.getConfigMap('default', 'c-missing')).toBeUndefined();
    expect(await objects.getConfigMap('default', 'c-missing')).toBeUndefined();
    expect(namedGets('configmaps', 'c-missing')).toBe(2);
    expect(await objects.getSecret('default', 's-missing')).toBeUndefined();
    await expect(objects.getSecret('default', 'nobody-references')).rejects.toMatchObject({
      code: 'OBJECT_NOT_REGISTERED',
      message: 'object "default"/"nobody-references" not registered',
    });
  });
});

describe('Get', () => {
  it('GETs at every read, registered or not', async () => {
    await createConfigMap('g-each', { k: 'v1' });
    const objects = manager('Get');
    const watchesBefore = server.openWatches;
    for (let i = 0; i < 3; i++)
      expect((await objects.getConfigMap('default', 'g-each'))?.data).toEqual({ k: 'v1' });
    expect(namedGets('configmaps', 'g-each')).toBe(3);
    await updateConfigMap('g-each', { k: 'v2' });
    expect((await objects.getConfigMap('default', 'g-each'))?.data).toEqual({ k: 'v2' });
    expect(await objects.getSecret('default', 'g-missing')).toBeUndefined();
    expect(server.openWatches).toBe(watchesBefore);
  });
});
