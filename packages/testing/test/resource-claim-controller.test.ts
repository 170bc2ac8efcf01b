import { CoreV1Api, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

const DRIVER = 'test-driver.cdi.k8s.io';

describe('DRA in the in-process control plane: resourceclaim controller and the scheduler', {
  timeout: 60_000,
}, () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup() {
    server = await startApiServer({
      controlPlane: {
        clock: new ManualClock(),
        nodeLifecycle: false,
        taintEviction: false,
        replicaSet: false,
      },
    });
    const s = server;
    const core = s.kubeConfig().makeApiClient(CoreV1Api);
    const dra = s.kubeConfig().makeApiClient(ResourceV1Api);
    const settle = () => s.controlPlane?.settled() ?? Promise.resolve();
    const addNode = async (name: string) => {
      await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
    };
    const publish = async (node: string, devices: number, attributes: Record<string, Wire> = {}) => {
      await dra.createResourceSlice({
        body: {
          metadata: { name: `${node}-${DRIVER}` },
          spec: {
            driver: DRIVER,
            nodeName: node,
            pool: { name: node, generation: 1, resourceSliceCount: 1 },
            devices: Array.from({ length: devices }, (_, i) => ({
              name: `device-${String(i).padStart(2, '0')}`,
              attributes,
            })),
          },
        },
      });
    };
    await dra.createDeviceClass({
      body: {
        metadata: { name: DRIVER },
        spec: { selectors: [{ cel: { expression: `device.driver == "${DRIVER}"` } }] },
      },
    });
    const template = async (name: string, exactly: Wire = {}) =>
      dra.createNamespacedResourceClaimTemplate({
        namespace: 'default',
        body: {
          metadata: { name },
          spec: {
            metadata: { labels: { from: 'template' } },
            spec: {
              devices: { requests: [{ name: 'dev', exactly: { deviceClassName: DRIVER, ...exactly } }] },
            },
          },
        },
      });
    const createPod = async (name: string, claims: Wire[]) => {
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name },
          spec: {
            containers: [
              { name: 'c', image: 'i:1', resources: { claims: claims.map((c) => ({ name: c.name })) } },
            ],
            resourceClaims: claims,
          } as V1Pod['spec'],
        },
      });
      await settle();
      return core.readNamespacedPod({ name, namespace: 'default' });
    };
    const claims = async () =>
      (await dra.listNamespacedResourceClaim({ namespace: 'default' })).items as Wire[];
    const scheduledMessage = (p: V1Pod) =>
      p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message;
    return { core, dra, settle, addNode, publish, template, createPod, claims, scheduledMessage };
  }

  it('creates the claim from the template, allocates a device on the node with slices, reserves it, then binds', async () => {
    const { addNode, publish, template, createPod, claims } = await setup();
    await addNode('np-upstream');
    await addNode('other');
    await publish('np-upstream', 2);
    await template('r');
    const pod = await createPod('np-dra-upstream', [{ name: 'r', resourceClaimTemplateName: 'r' }]);
    const [claim] = await claims();
    expect(claim.metadata.name).toMatch(/^np-dra-upstream-r-[a-z0-9]{5}$/);
    expect(claim.metadata.annotations).toEqual({ 'resource.kubernetes.io/pod-claim-name': 'r' });
    expect(claim.metadata.labels).toEqual({ from: 'template' });
    expect(claim.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'np-dra-upstream',
        uid: pod.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod.status?.resourceClaimStatuses).toEqual([
      { name: 'r', resourceClaimName: claim.metadata.name },
    ]);
    expect(pod.spec?.nodeName).toBe('np-upstream');
    expect(claim.metadata.finalizers).toEqual(['resource.kubernetes.io/delete-protection']);
    expect(claim.status.allocation).toEqual({
      devices: { results: [{ request: 'dev', driver: DRIVER, pool: 'np-upstream', device: 'device-00' }] },
      nodeSelector: {
        nodeSelectorTerms: [
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['np-upstream'] }] },
        ],
      },
    });
    expect(claim.status.reservedFor).toEqual([
      { resource: 'pods', name: 'np-dra-upstream', uid: pod.metadata?.uid },
    ]);
  });

  it('keeps a pod pending while no node has enough devices, in upstream words, and places it once a slice appears', async () => {
    const { addNode, publish, template, createPod, scheduledMessage, core, settle } = await setup();
    await addNode('n1');
    await publish('n1', 1);
    await template('two', { count: 2 });
    const pod = await createPod('p', [{ name: 'r', resourceClaimTemplateName: 'two' }]);
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(scheduledMessage(pod)).toBe(
      '0/1 nodes are available: 1 cannot allocate all claims. no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    await addNode('n2');
    await publish('n2', 3);
    await settle();
    expect((await core.readNamespacedPod({ name: 'p', namespace: 'default' })).spec?.nodeName).toBe('n2');
  });

  it('keeps a pod whose claim is missing or not created yet out of the queue (PreEnqueue: no condition, no event), naming why', async () => {
    const { addNode, publish, template, createPod, core, settle, claims } = await setup();
    await addNode('n1');
    await publish('n1', 1);
    const direct = await createPod('direct', [{ name: 'r', resourceClaimName: 'shared' }]);
    const waiting = await createPod('waiting', [{ name: 'r', resourceClaimTemplateName: 'later' }]);
    for (const p of [direct, waiting]) {
      expect(p.spec?.nodeName).toBeUndefined();
      expect(p.status?.conditions ?? []).toEqual([]);
    }
    expect((await core.listNamespacedEvent({ namespace: 'default' })).items).toEqual([]);
    expect(server?.controlPlane?.scheduler?.waiting()).toEqual(
      new Map([
        ['default/direct', 'resourceclaim.resource.k8s.io "shared" not found'],
        ['default/waiting', 'pod "default/waiting": ResourceClaim not created yet'],
      ]),
    );
    expect(await claims()).toEqual([]);
    await template('later');
    await settle();
    expect((await core.readNamespacedPod({ name: 'waiting', namespace: 'default' })).spec?.nodeName).toBe(
      'n1',
    );
    expect([...(server?.controlPlane?.scheduler?.waiting().keys() ?? [])]).toEqual(['default/direct']);
    await core.deleteNamespacedPod({ name: 'direct', namespace: 'default' });
    expect(server?.controlPlane?.scheduler?.waiting().size).toBe(0);
  });

  it('does not hand one device to two claims; a shared claim is reserved for both pods', async () => {
    const { addNode, publish, template, createPod, claims, dra } = await setup();
    await addNode('n1');
    await publish('n1', 1);
    await template('r');
    await dra.createNamespacedResourceClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'shared' },
        spec: { devices: { requests: [{ name: 'dev', exactly: { deviceClassName: DRIVER } }] } },
      },
    });
    const a = await createPod('a', [{ name: 's', resourceClaimName: 'shared' }]);
    const b = await createPod('b', [{ name: 's', resourceClaimName: 'shared' }]);
    expect([a.spec?.nodeName, b.spec?.nodeName]).toEqual(['n1', 'n1']);
    const shared = (await claims()).find((c) => c.metadata.name === 'shared');
    expect(shared.status.reservedFor.map((r: Wire) => r.name)).toEqual(['a', 'b']);
    const c = await createPod('c', [{ name: 'r', resourceClaimTemplateName: 'r' }]);
    expect(c.spec?.nodeName).toBeUndefined();
  });

  it('on pod deletion: frees reservedFor, deallocates, removes the finalizer and deletes the generated claim', async () => {
    const { addNode, publish, template, createPod, claims, core, settle } = await setup();
    await addNode('n1');
    await publish('n1', 1);
    await template('r');
    await createPod('p', [{ name: 'r', resourceClaimTemplateName: 'r' }]);
    expect((await claims())[0].status.reservedFor).toHaveLength(1);
    // A bound pod being deleted keeps its claim until the kubelet is done with it.
    await core.deleteNamespacedPod({ name: 'p', namespace: 'default' });
    await settle();
    expect((await claims())[0].status.allocation).toBeDefined();
    await core.deleteNamespacedPod({ name: 'p', namespace: 'default', gracePeriodSeconds: 0 });
    await settle();
    expect(await claims()).toEqual([]);
    // The device is free again for the next pod.
    const next = await createPod('next', [{ name: 'r', resourceClaimTemplateName: 'r' }]);
    expect(next.spec?.nodeName).toBe('n1');
  });

  it('deallocates a user-created claim whose last consumer finished, but keeps the claim', async () => {
    const { addNode, publish, createPod, claims, core, settle, dra } = await setup();
    await addNode('n1');
    await publish('n1', 1, { model: { string: 'a100' } });
    await dra.createNamespacedResourceClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'mine' },
        spec: {
          devices: {
            requests: [
              {
                name: 'dev',
                exactly: {
                  deviceClassName: DRIVER,
                  selectors: [{ cel: { expression: `device.attributes["${DRIVER}"].model == "a100"` } }],
                },
              },
            ],
          },
        },
      },
    });
    const pod = await createPod('p', [{ name: 'm', resourceClaimName: 'mine' }]);
    expect(pod.spec?.nodeName).toBe('n1');
    await core.replaceNamespacedPodStatus({
      name: 'p',
      namespace: 'default',
      body: { ...pod, status: { ...pod.status, phase: 'Succeeded' } },
    });
    await settle();
    const [claim] = await claims();
    expect(claim.metadata.name).toBe('mine');
    expect(claim.status.allocation).toBeUndefined();
    expect(claim.status.reservedFor ?? []).toEqual([]);
    expect(claim.metadata.finalizers ?? []).toEqual([]);
  });

  it('reports a selector that fails on a device as the claim and expression that failed', async () => {
    const { addNode, publish, createPod, scheduledMessage, dra } = await setup();
    await addNode('n1');
    await publish('n1', 1);
    await dra.createNamespacedResourceClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'strict' },
        spec: {
          devices: {
            requests: [
              {
                name: 'dev',
                exactly: {
                  deviceClassName: DRIVER,
                  selectors: [{ cel: { expression: `device.attributes["${DRIVER}"].model == "x"` } }],
                },
              },
            ],
          },
        },
      },
    });
    const pod = await createPod('p', [{ name: 's', resourceClaimName: 'strict' }]);
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(scheduledMessage(pod)).toContain(
      'resource claim default/strict: spec.devices.requests[0].exactly.selectors[0].cel.expression: CEL runtime error: No such key: model',
    );
  });
});
