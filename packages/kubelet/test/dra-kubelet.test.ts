import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { formatPodResourcesAnswers, PodResourcesClient } from '@nodeagent/testing';
import { type ApiServer, ManualClock, startApiServer } from '@nodeagent/testing/apiserver';
import { FakeDraPlugin, parseDraExchange } from '@nodeagent/testing/dra';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import type { ResourceClaim } from '../src/dra/resource-claim';
import { PodResourcesServer } from '../src/podresources/podresources-server';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness, startEngine } from './helpers/engine';
import { waitFor } from './helpers/wait-for';

const NODE = 'np-upstream';
const DRIVER = 'test-driver.cdi.k8s.io';
const fidelity = join(__dirname, '../../../fidelity/node-plugins-v1.36');
/** The recorded claim: its uid and name stand for ours when comparing with the recording. */
const RECORDED_UID = 'e54af637-99ae-4f79-bb94-a7388ca29413';
const RECORDED_NAME = 'np-dra-upstream-r-z8n6w';

let server: ApiServer;
let core: CoreV1Api;
let dra: ResourceV1Api;
let h: EngineHarness;
let plugin: FakeDraPlugin;
let events: string[];

/** The kubelet's registration of every socket in plugins_registry, driven by hand (the kubelet's clock is fake). */
async function registered(): Promise<void> {
  await waitFor(
    'the DRA driver registered',
    () => {
      h.kubelet.pluginManager.reconcile();
      return plugin.registrationStatuses.length > 0;
    },
    30_000,
  );
}

/** The recorded case's pod: one container using a claim made from a template, scheduled by the control plane. */
async function scheduledPod(name = 'np-dra-upstream'): Promise<Pod> {
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'c', image: busybox, command: ['sleep', '3600'], resources: { claims: [{ name: 'r' }] } },
        ],
        resourceClaims: [{ name: 'r', resourceClaimTemplateName: 'r' }],
      } as V1Pod['spec'],
    },
  });
  await server.controlPlane?.settled();
  const pod = JSON.parse(JSON.stringify(await core.readNamespacedPod({ name, namespace: 'default' }))) as Pod;
  expect(pod.spec.nodeName).toBe(NODE);
  return pod;
}

function claimOf(pod: Pod): Promise<ResourceClaim> {
  const name = pod.status?.resourceClaimStatuses?.[0]?.resourceClaimName ?? '';
  return dra.readNamespacedResourceClaim({ namespace: 'default', name }) as unknown as Promise<ResourceClaim>;
}

function ourNamesAsRecorded(value: unknown, claim: ResourceClaim): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .split(claim.metadata.uid ?? '')
      .join(RECORDED_UID)
      .split(claim.metadata.name ?? '')
      .join(RECORDED_NAME),
  );
}

beforeEach(async () => {
  server = await startApiServer({
    controlPlane: { clock: new ManualClock(), nodeLifecycle: false, taintEviction: false, replicaSet: false },
  });
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  dra = server.kubeConfig().makeApiClient(ResourceV1Api);
  await core.createNode({ body: { metadata: { name: NODE } } });
  await dra.createDeviceClass({
    body: {
      metadata: { name: DRIVER },
      spec: { selectors: [{ cel: { expression: `device.driver == "${DRIVER}"` } }] },
    },
  });
  await dra.createNamespacedResourceClaimTemplate({
    namespace: 'default',
    body: {
      metadata: { name: 'r' },
      spec: { spec: { devices: { requests: [{ name: 'dev', exactly: { deviceClassName: DRIVER } }] } } },
    },
  });
  // A slice a driver left behind before the kubelet started: wiped at start-up.
  await dra.createResourceSlice({
    body: {
      metadata: { name: 'stale' },
      spec: {
        driver: 'gone.example.com',
        nodeName: NODE,
        pool: { name: NODE, generation: 1, resourceSliceCount: 1 },
        devices: [],
      },
    },
  });
  events = [];
  h = await startEngine({
    node: { name: NODE },
    api: {
      dra: {
        claims: {
          getResourceClaim: async (namespace, name) =>
            JSON.parse(
              JSON.stringify(await dra.readNamespacedResourceClaim({ namespace, name })),
            ) as ResourceClaim,
        },
        slices: {
          deleteResourceSlices: async (fieldSelector) => {
            await dra.deleteCollectionResourceSlice({ fieldSelector });
          },
          nodeExists: async () => {
            await core.readNode({ name: NODE });
            return true;
          },
        },
      },
      recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason} ${message}`),
    },
  });
  await waitFor(
    'the stale ResourceSlice wiped at start-up',
    async () => (await dra.listResourceSlice({ fieldSelector: `spec.nodeName=${NODE}` })).items.length === 0,
    30_000,
  );
  plugin = await FakeDraPlugin.start({
    driverName: DRIVER,
    nodeName: NODE,
    rootDir: join(h.dir, 'root'),
    cdiDir: join(h.dir, 'cdi'),
    kubeConfig: server.kubeConfig(),
  });
});

afterEach(async () => {
  await h?.close();
  await plugin?.stop();
  await server?.close();
});

describe('kubelet with a DRA driver (upstream test driver answers)', () => {
  it('registers, prepares the claim before the sandbox, lists it in pod-resources and unprepares it on deletion, exchanging what upstream did', async () => {
    await registered();
    // dra-register: registered once, its slice kept.
    expect(plugin.registrationStatuses).toEqual([{ pluginRegistered: true, error: '' }]);
    expect((await dra.listResourceSlice({ fieldSelector: `spec.nodeName=${NODE}` })).items).toHaveLength(1);

    // dra-prepare: the pod runs, NodePrepareResources once, the CDI spec written.
    const pod = await scheduledPod();
    const claim = await claimOf(pod);
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(h.writer.last(pod.metadata.uid ?? '')?.phase).toBe('Running');
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodePrepareResources'))).toHaveLength(1);
    await access(plugin.cdiSpecPath(claim.metadata.uid ?? ''));
    const cdiId = `${DRIVER}/test=claim-${claim.metadata.uid}-dev`;
    expect(h.kubelet.dra!.containerCdiDevices(pod, pod.spec.containers[0]!)).toEqual([cdiId]);
    expect(await readFile(join(h.dir, 'root', 'dra_manager_state'), 'utf8')).toContain(cdiId);

    // podres-list: the container's claim with its driver, pool, device and CDI device.
    const socket = join(h.dir, 'root', 'pod-resources', 'kubelet.sock');
    const podResources = new PodResourcesServer({
      pods: { activePods: () => h.kubelet.getPods() },
      devices: { containerDevices: () => [], allocatableDevices: () => [] },
      dynamicResources: h.kubelet.dra,
      grpc,
    });
    await podResources.start(socket);
    const client = new PodResourcesClient(socket);
    try {
      const lines = formatPodResourcesAnswers({ list: await client.list(), allocatable: { devices: [] } });
      const recorded = (await readFile(join(fidelity, 'pod-resources-answers.txt'), 'utf8'))
        .split('\n')
        .filter((line) => line.startsWith('pod default/np-dra-upstream '));
      expect(ourNamesAsRecorded(lines, claim)).toEqual(recorded);
    } finally {
      client.close();
      podResources.stop();
    }

    // The health stream (ResourceHealthStatus, on by default): an unhealthy device reaches the
    // container's allocatedResourcesStatus at the pod's next sync, which the change asks for.
    const health = () =>
      h.writer.last(pod.metadata.uid ?? '')?.containerStatuses?.[0]?.allocatedResourcesStatus?.[0]
        ?.resources[0]?.health;
    expect(health()).toBe('Healthy');
    plugin.markUnhealthy('device-00');
    await waitFor(
      'the device unhealthy in the container status',
      async () => {
        await h.kubelet.settle();
        return health() === 'Unhealthy' ? true : undefined;
      },
      30_000,
    );
    expect(h.writer.last(pod.metadata.uid ?? '')?.containerStatuses?.[0]?.allocatedResourcesStatus).toEqual([
      { name: 'claim:r', resources: [{ resourceID: cdiId, health: 'Unhealthy' }] },
    ]);

    // dra-unprepare: NodeUnprepareResources once after the containers stopped, the spec removed.
    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodeUnprepareResources'))).toHaveLength(1);
    await expect(access(plugin.cdiSpecPath(claim.metadata.uid ?? ''))).rejects.toThrow();
    expect((await h.client.listContainers({})).containers.every((c) => c.state !== 1)).toBe(true);

    // The whole exchange, in order, as upstream's kubelet had it with the test driver.
    await plugin.stop();
    const recordedExchange = parseDraExchange(
      await readFile(join(fidelity, 'dra-test-driver-exchange.txt'), 'utf8'),
    );
    expect(ourNamesAsRecorded(plugin.exchange(), claim)).toEqual(recordedExchange);
    const metrics = await h.kubelet.metrics.registry.metrics();
    expect(metrics).toContain(
      'dra_operations_duration_seconds_count{operation_name="PrepareResources",is_error="false"} 1',
    );
    expect(metrics).toContain(
      'dra_operations_duration_seconds_count{operation_name="UnprepareResources",is_error="false"} 1',
    );
  });

  it('retries a prepare the driver failed, with the event upstream records', async () => {
    await registered();
    plugin.failNext('NodePrepareResources', { code: 13, message: 'injected failure' });
    const pod = await scheduledPod('np-dra-retry');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(events).toContain(
      'Warning FailedPrepareDynamicResources Failed to prepare dynamic resources: prepare dynamic resources: NodePrepareResources: rpc error: code = Internal desc = injected failure',
    );
    expect(h.writer.last(pod.metadata.uid ?? '')?.phase).toBe('Pending');
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
    // The failed sync runs again after the retry delay.
    h.clock.advance(3_600_000);
    await h.settleThroughRelists();
    expect(h.writer.last(pod.metadata.uid ?? '')?.phase).toBe('Running');
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodePrepareResources'))).toHaveLength(2);
  });

  it("wipes the driver's ResourceSlices 30 s after its registration socket is gone", async () => {
    await registered();
    expect((await dra.listResourceSlice({ fieldSelector: `spec.driver=${DRIVER}` })).items).toHaveLength(1);
    await plugin.stop();
    await waitFor(
      'the driver deregistered',
      () => {
        h.kubelet.pluginManager.reconcile();
        return h.kubelet.pluginManager.registeredPlugins().length === 0;
      },
      30_000,
    );
    h.clock.advance(29_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await dra.listResourceSlice({ fieldSelector: `spec.driver=${DRIVER}` })).items).toHaveLength(1);
    h.clock.advance(1_000);
    await waitFor(
      'the slices wiped',
      async () =>
        (await dra.listResourceSlice({ fieldSelector: `spec.driver=${DRIVER}` })).items.length === 0,
      30_000,
    );
  });

  it('speaks v1beta1.DRAPlugin to a driver that offers only it, and refuses one offering neither, in upstream words', async () => {
    await plugin.stop();
    plugin = await FakeDraPlugin.start({
      driverName: DRIVER,
      nodeName: NODE,
      rootDir: join(h.dir, 'root'),
      cdiDir: join(h.dir, 'cdi'),
      kubeConfig: server.kubeConfig(),
      supportedVersions: ['v1beta1.DRAPlugin'],
    });
    await registered();
    expect(plugin.registrationStatuses).toEqual([{ pluginRegistered: true, error: '' }]);
    const pod = await scheduledPod('np-dra-v1beta1');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(h.writer.last(pod.metadata.uid ?? '')?.phase).toBe('Running');
    expect(plugin.calls.map((c) => c.method)).toContain(
      '/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodePrepareResources',
    );
    expect(plugin.calls.filter((c) => c.method.includes('.v1.DRAPlugin/'))).toEqual([]);

    const other = await FakeDraPlugin.start({
      driverName: 'other.example.com',
      nodeName: NODE,
      rootDir: join(h.dir, 'root'),
      cdiDir: join(h.dir, 'cdi'),
      kubeConfig: server.kubeConfig(),
      publishSlice: false,
      supportedVersions: ['v1alpha4.Node'],
    });
    try {
      await waitFor(
        'the other driver refused',
        () => {
          h.kubelet.pluginManager.reconcile();
          return other.registrationStatuses.length > 0;
        },
        30_000,
      );
      expect(other.registrationStatuses).toEqual([
        {
          pluginRegistered: false,
          error: `RegisterPlugin error -- plugin validation failed with err: invalid supported gRPC versions of DRA driver plugin other.example.com at endpoint ${other.endpoint}: none of services supported by the plugin (["v1alpha4.Node"]) are supported by the kubelet (["v1.DRAPlugin" "v1beta1.DRAPlugin"])`,
        },
      ]);
    } finally {
      await other.stop();
    }
  });
});
