import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: wire JSON
type Any = any;

describe('pod spec validation the v1.36 server does on create and resize', () => {
  let server: ApiServer;
  const create = async (spec: Any, name = 'p') => {
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name }, spec }),
    });
    return { status: res.status, body: (await res.json()) as Any };
  };
  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a request above its limit, quoting both as Quantity prints them', async () => {
    const res = await create({
      containers: [
        { name: 'c', image: 'i:1', resources: { requests: { cpu: '0.5' }, limits: { cpu: '200m' } } },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe(
      'Pod "p" is invalid: spec.containers[0].resources.requests: Invalid value: "500m": must be less than or equal to cpu limit of 200m',
    );
    expect(res.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.containers[0].resources.requests',
        message: 'Invalid value: "500m": must be less than or equal to cpu limit of 200m',
      },
    ]);
  });

  it('refuses negative quantities, in init containers too', async () => {
    const res = await create({
      initContainers: [{ name: 'i', image: 'i:1', resources: { limits: { memory: '-1Mi' } } }],
      containers: [{ name: 'c', image: 'i:1' }],
    });
    expect(res.status).toBe(422);
    expect(res.body.details.causes.map((c: Any) => `${c.field}: ${c.message}`)).toEqual([
      'spec.initContainers[0].resources.limits[memory]: Invalid value: "-1Mi": must be greater than or equal to 0',
      // requests default to limits, so the request is negative too
      'spec.initContainers[0].resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0',
    ]);
  });

  it('accepts a sleep hook of 0 seconds and refuses one longer than the grace period', async () => {
    const zero = await create(
      { containers: [{ name: 'c', image: 'i:1', lifecycle: { preStop: { sleep: { seconds: 0 } } } }] },
      'sleep-zero',
    );
    expect(zero.status).toBe(201);
    expect(zero.body.spec.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 0 } } });
    const long = await create(
      {
        terminationGracePeriodSeconds: 10,
        containers: [{ name: 'c', image: 'i:1', lifecycle: { postStart: { sleep: { seconds: 11 } } } }],
      },
      'sleep-long',
    );
    expect(long.status).toBe(422);
    expect(long.body.message).toBe(
      'Pod "sleep-long" is invalid: spec.containers[0].lifecycle.postStart.sleep.seconds: Invalid value: 11: must be non-negative and less than terminationGracePeriodSeconds (10)',
    );
  });

  it('refuses a resize that puts a request above its limit before asking about the node', async () => {
    const created = await create(
      {
        containers: [
          { name: 'c', image: 'i:1', resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } } },
        ],
      },
      'resize-me',
    );
    expect(created.status).toBe(201);
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/resize-me/resize`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({
        spec: { containers: [{ name: 'c', resources: { requests: { cpu: '300m' } } }] },
      }),
    });
    const body = (await res.json()) as Any;
    expect(res.status).toBe(422);
    expect(body.message).toBe(
      'Pod "resize-me" is invalid: spec.containers[0].resources.requests: Invalid value: "300m": must be less than or equal to cpu limit of 200m',
    );
  });

  it('resizes through the replace endpoint (PUT pods/<name>/resize with the whole pod)', async () => {
    await create(
      {
        containers: [
          { name: 'c', image: 'i:1', resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } } },
        ],
      },
      'replaced',
    );
    const url = `${server.url}/api/v1/namespaces/default/pods/replaced/resize`;
    const pod = (await (await fetch(url)).json()) as Any;
    expect(pod.kind).toBe('Pod');
    pod.spec.containers[0].resources = { requests: { cpu: '150m' }, limits: { cpu: '300m' } };
    pod.metadata.labels = { ignored: 'yes' };
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(pod),
    });
    const body = (await res.json()) as Any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.spec.containers[0].resources).toEqual({ requests: { cpu: '150m' }, limits: { cpu: '300m' } });
    expect(body.metadata.generation).toBe(2);
    // Metadata is not the resize subresource's to change.
    expect(body.metadata.labels).toBeUndefined();
    // A stale resourceVersion conflicts as on any update.
    const stale = await fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(pod),
    });
    expect(stale.status).toBe(409);
  });

  it('lets an update of the pod itself change only images, activeDeadlineSeconds and tolerations', async () => {
    await create(
      {
        nodeName: 'n1',
        containers: [{ name: 'c', image: 'i:1', resources: { requests: { cpu: '100m' } } }],
      },
      'updated',
    );
    const url = `${server.url}/api/v1/namespaces/default/pods/updated`;
    const patch = async (body: Any) => {
      const res = await fetch(url, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Any };
    };
    expect((await patch({ spec: { containers: [{ name: 'c', image: 'i:2' }] } })).status).toBe(200);
    expect((await patch({ spec: { activeDeadlineSeconds: 100 } })).status).toBe(200);
    const raised = await patch({ spec: { activeDeadlineSeconds: 200 } });
    expect(raised.status).toBe(422);
    expect(raised.body.message).toBe(
      'Pod "updated" is invalid: spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value',
    );
    const added = await patch({
      spec: { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }] },
    });
    expect(added.status).toBe(200);
    // The default NoExecute tolerations stay (DefaultTolerationSeconds acts on updates too).
    expect(added.body.spec.tolerations).toHaveLength(3);
    const resources = await patch({
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: '200m' } } }] },
    });
    expect(resources.status).toBe(422);
    expect(resources.body.message).toContain(
      'Pod "updated" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    );
    expect(resources.body.message).toContain('spec.containers');
    const moved = await patch({ spec: { nodeName: 'n2' } });
    expect(moved.status).toBe(422);
    const more = await fetch(url, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: '/spec/containers/-', value: { name: 'd', image: 'i:1' } }]),
    });
    expect(((await more.json()) as Any).message).toBe(
      'Pod "updated" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers',
    );
    // Metadata-only changes are fine.
    expect((await patch({ metadata: { labels: { a: 'b' } } })).status).toBe(200);
  });

  it('refuses what the resize subresource may not change, with upstream messages', async () => {
    await create(
      {
        containers: [
          { name: 'c', image: 'i:1', resources: { requests: { cpu: '100m', 'ephemeral-storage': '1Gi' } } },
        ],
        initContainers: [{ name: 'setup', image: 'i:1', resources: { requests: { cpu: '100m' } } }],
      },
      'fixed',
    );
    const resize = async (patch: Any) => {
      const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/fixed/resize`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: JSON.stringify(patch),
      });
      return { status: res.status, body: (await res.json()) as Any };
    };
    const storage = await resize({
      spec: { containers: [{ name: 'c', resources: { requests: { 'ephemeral-storage': '2Gi' } } }] },
    });
    expect(storage.status).toBe(422);
    expect(storage.body.message).toBe(
      'Pod "fixed" is invalid: spec: Forbidden: only cpu and memory resources are mutable',
    );
    const init = await resize({
      spec: { initContainers: [{ name: 'setup', resources: { requests: { cpu: '200m' } } }] },
    });
    expect(init.status).toBe(422);
    expect(init.body.message).toBe(
      'Pod "fixed" is invalid: spec: Forbidden: resources for non-sidecar init containers are immutable',
    );
    const image = await resize({ spec: { containers: [{ name: 'c', image: 'other:2' }] } });
    // Only resources and resizePolicy are taken from the request: the image change is dropped.
    expect(image.status).toBe(200);
    expect(image.body.spec.containers[0].image).toBe('i:1');
    expect(image.body.metadata.generation).toBe(1);
  });
  it('pod-level spec.resources: the fixture pod is accepted, a request below the containers’ aggregate is not', async () => {
    const ok = await create(
      {
        resources: { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '400m', memory: '128Mi' } },
        containers: [
          { name: 'a', image: 'i:1' },
          { name: 'b', image: 'i:1', resources: { requests: { cpu: '50m', memory: '16Mi' } } },
        ],
      },
      'pod-resources',
    );
    expect(ok.status).toBe(201);
    expect(ok.body.status.qosClass).toBe('Burstable');
    const below = await create(
      {
        resources: { requests: { cpu: '1' } },
        containers: [
          { name: 'a', image: 'i:1', resources: { requests: { cpu: '1' } } },
          { name: 'b', image: 'i:1', resources: { requests: { cpu: '500m' } } },
        ],
      },
      'below',
    );
    expect(below.status).toBe(422);
    expect(below.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.resources.requests[cpu]',
        message: 'Invalid value: "1": must be greater than or equal to aggregate container requests of 1500m',
      },
    ]);
  });

  it('pod-level spec.resources: unsupported names, requests above limits, container limits above the pod’s', async () => {
    const res = await create(
      {
        resources: {
          requests: { cpu: '500m', 'ephemeral-storage': '1Gi' },
          limits: { cpu: '400m', memory: '128Mi' },
        },
        containers: [{ name: 'a', image: 'i:1', resources: { limits: { memory: '256Mi' } } }],
      },
      'bad-level',
    );
    expect(res.status).toBe(422);
    expect(res.body.details.causes).toEqual([
      {
        reason: 'FieldValueNotSupported',
        field: 'spec.resources.requests[ephemeral-storage]',
        message: 'Unsupported value: "ephemeral-storage": supported values: "cpu", "hugepages-", "memory"',
      },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.resources.requests',
        message: 'Invalid value: "500m": must be less than or equal to cpu limit of 400m',
      },
      // Defaulting came first: the container's memory request is its limit, and the pod-level
      // memory request left out is the containers' aggregate, 256Mi, above the pod's limit too.
      {
        reason: 'FieldValueInvalid',
        field: 'spec.resources.requests',
        message: 'Invalid value: "256Mi": must be less than or equal to memory limit of 128Mi',
      },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.resources.containers[0][memory].limits',
        message: 'Invalid value: "256Mi": must be less than or equal to pod limits of 128Mi',
      },
    ]);
  });
});
