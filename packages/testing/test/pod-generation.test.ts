import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, type KubeObject, startApiServer } from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: pods are arbitrary wire JSON here
type Pod = any;

/** The same object with every object's keys in reverse order (what another client may send). */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .reverse()
        .map(([k, x]) => [k, reversedKeys(x)]),
    );
  return v;
}

describe('pod metadata.generation and status.observedGeneration (Pod generation, GA in v1.35)', () => {
  let server: ApiServer;
  const base = () => `${server.url}/api/v1/namespaces/gen/pods`;
  const send = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { 'Content-Type': type },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Pod };
  };
  const get = async (name: string): Promise<Pod> => (await send('GET', `/${name}`)).body;
  const put = async (pod: Pod) => send('PUT', `/${pod.metadata.name}`, pod);

  /** The kubelet's part: the pod runs, and it reports the generation it acted on. */
  function runs(name: string, observed: number): void {
    const pods = server.resource('v1', 'pods');
    const pod = server.registry.get(pods, 'gen', name);
    server.registry.update(
      pods,
      'gen',
      name,
      {
        ...pod,
        status: {
          ...(pod.status as object),
          phase: 'Running',
          observedGeneration: observed,
          conditions: [{ type: 'Ready', status: 'True', observedGeneration: observed }],
        },
      },
      'status',
    );
  }

  const podNamed = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra },
    spec: {
      nodeName: 'n1',
      initContainers: [{ name: 'init-container', image: 'busybox:1' }],
      containers: [{ name: 'c', image: 'agnhost:2' }],
    },
  });

  beforeAll(async () => {
    server = await startApiServer();
    server.registry.create(server.resource('v1', 'namespaces'), undefined, { metadata: { name: 'gen' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('starts at 1 and goes up by one per spec change only ("pod generation should start at 1 and increment per update")', async () => {
    const created = await send('POST', '', podNamed('updates'));
    expect(created.status).toBe(201);
    expect(created.body.metadata.generation).toBe(1);
    runs('updates', 1);
    const updates: [string, (p: Pod) => void, boolean][] = [
      ['empty update, keys in another order', () => undefined, false],
      [
        'tolerations',
        (p) => {
          p.spec.tolerations = [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'NoSchedule' }];
        },
        true,
      ],
      [
        'activeDeadlineSeconds',
        (p) => {
          p.spec.activeDeadlineSeconds = 5000;
        },
        true,
      ],
      [
        'container image',
        (p) => {
          p.spec.containers[0].image = 'nginx:1';
        },
        true,
      ],
      [
        'init container image',
        (p) => {
          p.spec.initContainers[0].image = 'pause:3';
        },
        true,
      ],
      [
        'annotations only',
        (p) => {
          p.metadata.annotations = { key: 'value' };
        },
        false,
      ],
      [
        'generation set by the client',
        (p) => {
          p.metadata.generation = 1;
        },
        false,
      ],
    ];
    let expected = 1;
    for (const [what, change, bumps] of updates) {
      const pod = await get('updates');
      change(pod);
      const res = await put(reversedKeys(pod));
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(200);
      if (bumps) expected++;
      expect((await get('updates')).metadata.generation, what).toBe(expected);
      runs('updates', expected);
      expect((await get('updates')).status.observedGeneration, what).toBe(expected);
    }
  });

  it('ignores a custom generation on create and bumps it on graceful delete ("custom-set generation on new pods and graceful delete")', async () => {
    const created = await send('POST', '', podNamed('graceful', { generation: 100 }));
    expect(created.body.metadata.generation).toBe(1);
    runs('graceful', 1);
    const deleted = await send('DELETE', '/graceful?gracePeriodSeconds=60');
    expect(deleted.status).toBe(200);
    const pod = await get('graceful');
    expect(pod.metadata.deletionGracePeriodSeconds).toBe(60);
    expect(pod.metadata.generation).toBe(2);
    // Shortening the grace period is not a new deletion: no second bump.
    await send('DELETE', '/graceful?gracePeriodSeconds=30');
    const shortened = await get('graceful');
    expect(shortened.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(shortened.metadata.generation).toBe(2);
  });

  // 998 sequential requests: a generous hang guard for a loaded machine, not a timing check.
  it('converges after 499 spec updates ("issue 500 podspec updates")', { timeout: 300_000 }, async () => {
    const pod = podNamed('five-hundred');
    (pod.spec as Pod).activeDeadlineSeconds = 5000;
    let current = (await send('POST', '', pod)).body;
    for (let i = 0; i < 499; i++) {
      current.spec.activeDeadlineSeconds--;
      const res = await put(current);
      expect(res.status).toBe(200);
      current = res.body;
    }
    runs('five-hundred', 500);
    const final = await get('five-hundred');
    expect(final.metadata.generation).toBe(500);
    expect(final.spec.activeDeadlineSeconds).toBe(4501);
    expect(final.status.observedGeneration).toBe(500);
  });

  it('keeps observedGeneration on status writes that leave it out, on the pod and on each condition', async () => {
    await send('POST', '', podNamed('observed'));
    runs('observed', 1);
    // An older writer: a status patch without any observedGeneration.
    const res = await send(
      'PATCH',
      '/observed/status',
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      'application/strategic-merge-patch+json',
    );
    expect(res.status).toBe(200);
    expect(res.body.status.observedGeneration).toBe(1);
    expect(res.body.status.conditions).toEqual([{ type: 'Ready', status: 'False', observedGeneration: 1 }]);
    // A status without qosClass keeps the one fixed at creation.
    const current = await get('observed');
    const { qosClass: _dropped, ...withoutQos } = current.status;
    const put2 = await send('PUT', '/observed/status', { ...current, status: withoutQos });
    expect(put2.body.status.qosClass).toBe('BestEffort');
    // Status writes never bump the generation.
    expect(put2.body.metadata.generation).toBe(1);
  });

  it('bumps the generation on resize and ephemeral container updates, not on no-op resizes', async () => {
    await send('POST', '', {
      ...podNamed('resized'),
      spec: {
        nodeName: '',
        containers: [
          {
            name: 'c',
            image: 'agnhost:2',
            resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } },
          },
        ],
      },
    });
    const resize = (cpu: string) =>
      send(
        'PATCH',
        '/resized/resize',
        { spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }] } },
        'application/strategic-merge-patch+json',
      );
    expect((await resize('150m')).body.metadata.generation).toBe(2);
    expect((await resize('150m')).body.metadata.generation).toBe(2);
    const debug = await send(
      'PATCH',
      '/resized/ephemeralcontainers',
      { spec: { ephemeralContainers: [{ name: 'debugger', image: 'busybox:1' }] } },
      'application/strategic-merge-patch+json',
    );
    expect(debug.body.metadata.generation).toBe(3);
  });
});
