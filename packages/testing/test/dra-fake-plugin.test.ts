import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  type Claim,
  draHealthV1alpha1Service,
  draV1beta1Service,
  draV1Service,
  type NodePrepareResourcesResponse,
  type NodeUnprepareResourcesResponse,
  type NodeWatchResourcesResponse,
  type PluginInfo,
  registrationV1Service,
} from '@nodeagent/plugin-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';
import { FakeDraPlugin, parseDraExchange } from '../src/dra/index';

const DRIVER = 'test-driver.cdi.k8s.io';
const NODE = 'np-upstream';
const recordingPath = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'fidelity',
  'node-plugins-v1.36',
  'dra-test-driver-exchange.txt',
);

interface Method {
  path: string;
  requestSerialize: (v: never) => Buffer;
  responseDeserialize: (b: Buffer) => unknown;
}

let server: ApiServer;
let dir: string;
let plugin: FakeDraPlugin;
const clients: grpc.Client[] = [];

function dial(socket: string): grpc.Client {
  const c = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

function unary<Res>(client: grpc.Client, method: Method, request: object, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize as (v: object) => Buffer,
      method.responseDeserialize as (b: Buffer) => Res,
      request,
      { deadline: Date.now() + timeoutMs },
      (err, value) => (err || value === undefined ? reject(err) : resolve(value)),
    ),
  );
}

/** The cluster side of the recorded case: a node, the driver's class, a pod whose template claim gets allocated. */
async function allocatedClaim(): Promise<Claim> {
  const core = server.kubeConfig().makeApiClient(CoreV1Api);
  const dra = server.kubeConfig().makeApiClient(ResourceV1Api);
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
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'np-dra-upstream' },
      spec: {
        containers: [{ name: 'c', image: 'i:1', resources: { claims: [{ name: 'r' }] } }],
        resourceClaims: [{ name: 'r', resourceClaimTemplateName: 'r' }],
      } as V1Pod['spec'],
    },
  });
  await server.controlPlane?.settled();
  const pod = await core.readNamespacedPod({ name: 'np-dra-upstream', namespace: 'default' });
  expect(pod.spec?.nodeName).toBe(NODE);
  const name = pod.status?.resourceClaimStatuses?.[0]?.resourceClaimName as string;
  const claim = await dra.readNamespacedResourceClaim({ namespace: 'default', name });
  return { namespace: 'default', uid: claim.metadata?.uid as string, name };
}

beforeEach(async () => {
  server = await startApiServer({
    controlPlane: { clock: new ManualClock(), nodeLifecycle: false, taintEviction: false, replicaSet: false },
  });
  await server
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNode({ body: { metadata: { name: NODE } } });
  dir = await mkdtemp(join(tmpdir(), 'na-fake-dra-'));
  plugin = await FakeDraPlugin.start({
    driverName: DRIVER,
    nodeName: NODE,
    rootDir: join(dir, 'kubelet'),
    cdiDir: join(dir, 'cdi'),
    kubeConfig: server.kubeConfig(),
    devices: 2,
    now: () => new Date(1_800_000_000_000),
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await plugin.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('FakeDraPlugin', () => {
  it("answers upstream kubelet's calls as the DRA test driver did: registration, health stream, prepare, unprepare", async () => {
    const recorded = parseDraExchange(await readFile(recordingPath, 'utf8'));
    expect(recorded.map((e) => e.method)).toHaveLength(5);

    const registration = dial(plugin.registrationSocket);
    const info = await unary<PluginInfo>(registration, registrationV1Service.GetInfo, {});
    expect(info).toEqual({
      type: 'DRAPlugin',
      name: DRIVER,
      endpoint: join(dir, 'kubelet', 'plugins', DRIVER, 'dra.sock'),
      supportedVersions: ['v1.DRAPlugin', 'v1beta1.DRAPlugin', 'v1alpha1.DRAResourceHealth'],
    });
    await unary(registration, registrationV1Service.NotifyRegistrationStatus, {
      pluginRegistered: true,
      error: '',
    });
    expect(plugin.registrationStatuses).toEqual([{ pluginRegistered: true, error: '' }]);

    const dra = dial(info.endpoint);
    const health = dra.makeServerStreamRequest(
      draHealthV1alpha1Service.NodeWatchResources.path,
      draHealthV1alpha1Service.NodeWatchResources.requestSerialize as (v: object) => Buffer,
      draHealthV1alpha1Service.NodeWatchResources.responseDeserialize as (
        b: Buffer,
      ) => NodeWatchResourcesResponse,
      {},
    );
    const answers: NodeWatchResourcesResponse[] = [];
    const first = new Promise<void>((resolve) => health.once('data', () => resolve()));
    health.on('data', (a: NodeWatchResourcesResponse) => answers.push(a));
    const ended = new Promise<void>((resolve) =>
      health.on('end', () => resolve()).on('error', () => resolve()),
    );
    await first;

    const claim = await allocatedClaim();
    const prepared = await unary<NodePrepareResourcesResponse>(dra, draV1Service.NodePrepareResources, {
      claims: [claim],
    });
    const cdiId = `${DRIVER}/test=claim-${claim.uid}-dev`;
    expect(prepared.claims[claim.uid]).toEqual({
      devices: [{ requestNames: ['dev'], poolName: NODE, deviceName: 'device-00', cdiDeviceIds: [cdiId] }],
      error: '',
    });
    const spec = JSON.parse(await readFile(plugin.cdiSpecPath(claim.uid), 'utf8'));
    expect(spec).toEqual({
      cdiVersion: '0.3.0',
      kind: `${DRIVER}/test`,
      devices: [
        {
          name: `claim-${claim.uid}-dev`,
          containerEdits: {
            env: [`claim_${claim.name.replace(/-/g, '_')}_dev=true`, `dev_device_00=${NODE}/device-00`],
          },
        },
      ],
    });
    const unprepared = await unary<NodeUnprepareResourcesResponse>(dra, draV1Service.NodeUnprepareResources, {
      claims: [claim],
    });
    expect(unprepared).toEqual({ claims: { [claim.uid]: { error: '' } } });
    await expect(access(plugin.cdiSpecPath(claim.uid))).rejects.toThrow();

    await plugin.stop();
    await ended;
    expect(answers[0]?.devices.map((d) => [d.device?.deviceName, d.health])).toEqual([
      ['device-00', 'HEALTHY'],
      ['device-01', 'HEALTHY'],
    ]);

    // The same calls, answered the same, as the recording: its claim's uid and name are ours here.
    const ours = JSON.parse(
      JSON.stringify(plugin.exchange())
        .split(claim.uid)
        .join('e54af637-99ae-4f79-bb94-a7388ca29413')
        .split(claim.name)
        .join('np-dra-upstream-r-z8n6w'),
    );
    expect(ours).toEqual(recorded);
  });

  it('publishes a ResourceSlice for its node: one pool named after the node, device-00.. device-NN, owned by the Node', async () => {
    const slices = await server
      .kubeConfig()
      .makeApiClient(ResourceV1Api)
      .listResourceSlice({ fieldSelector: `spec.nodeName=${NODE}` });
    expect(slices.items).toHaveLength(1);
    const [slice] = slices.items;
    expect(slice?.metadata?.name).toMatch(
      new RegExp(`^${NODE}-${DRIVER.replace(/\./g, '\\.')}-[a-z0-9]{5}$`),
    );
    expect(slice?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: NODE });
    expect(slice?.spec).toMatchObject({
      driver: DRIVER,
      nodeName: NODE,
      pool: { name: NODE, generation: 1, resourceSliceCount: 1 },
      devices: [{ name: 'device-00' }, { name: 'device-01' }],
    });
    // A restarted driver takes its slice over (next generation) instead of publishing its devices twice.
    await plugin.stop();
    plugin = await FakeDraPlugin.start({
      driverName: DRIVER,
      nodeName: NODE,
      rootDir: join(dir, 'kubelet'),
      cdiDir: join(dir, 'cdi'),
      kubeConfig: server.kubeConfig(),
      devices: 3,
    });
    const again = await server.kubeConfig().makeApiClient(ResourceV1Api).listResourceSlice({});
    expect(
      again.items.map((s) => [s.metadata?.name, s.spec?.pool?.generation, s.spec?.devices?.length]),
    ).toEqual([[slice?.metadata?.name, 2, 3]]);
    await plugin.unpublishSlice();
    expect((await server.kubeConfig().makeApiClient(ResourceV1Api).listResourceSlice({})).items).toEqual([]);
  });

  it('serves v1beta1 too, and answers a claim it cannot read or that is not allocated with an error inside the answer', async () => {
    const dra = dial(plugin.endpoint);
    const missing = { namespace: 'default', uid: '00000000-0000-0000-0000-000000000001', name: 'gone' };
    const answer = await unary<NodePrepareResourcesResponse>(dra, draV1beta1Service.NodePrepareResources, {
      claims: [missing],
    });
    expect(answer.claims[missing.uid]?.error).toBe(
      'retrieve claim default/gone: resourceclaims.resource.k8s.io "gone" not found',
    );
    await server
      .kubeConfig()
      .makeApiClient(ResourceV1Api)
      .createNamespacedResourceClaim({
        namespace: 'default',
        body: {
          metadata: { name: 'idle' },
          spec: { devices: { requests: [{ name: 'dev', exactly: { deviceClassName: DRIVER } }] } },
        },
      });
    const idle = await server
      .kubeConfig()
      .makeApiClient(ResourceV1Api)
      .readNamespacedResourceClaim({ namespace: 'default', name: 'idle' });
    const notAllocated = { namespace: 'default', uid: idle.metadata?.uid as string, name: 'idle' };
    const second = await unary<NodePrepareResourcesResponse>(dra, draV1Service.NodePrepareResources, {
      claims: [notAllocated],
    });
    expect(second.claims[notAllocated.uid]?.error).toBe('claim default/idle is not allocated');
    expect(plugin.calls.map((c) => c.method)).toEqual([
      '/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodePrepareResources',
      '/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources',
    ]);
  });

  it('serves only the services it announces: a v1beta1-only driver answers v1 and health UNIMPLEMENTED', async () => {
    await plugin.stop();
    plugin = await FakeDraPlugin.start({
      driverName: DRIVER,
      nodeName: NODE,
      rootDir: join(dir, 'kubelet'),
      cdiDir: join(dir, 'cdi'),
      kubeConfig: server.kubeConfig(),
      supportedVersions: ['v1beta1.DRAPlugin'],
    });
    const info = await unary<PluginInfo>(dial(plugin.registrationSocket), registrationV1Service.GetInfo, {});
    expect(info.supportedVersions).toEqual(['v1beta1.DRAPlugin']);
    const dra = dial(plugin.endpoint);
    const claim = { namespace: 'default', uid: '00000000-0000-0000-0000-000000000003', name: 'c' };
    const v1 = await unary(dra, draV1Service.NodeUnprepareResources, { claims: [claim] }).catch(
      (e: grpc.ServiceError) => e,
    );
    expect(v1).toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    const v1beta1 = await unary<NodeUnprepareResourcesResponse>(
      dra,
      draV1beta1Service.NodeUnprepareResources,
      {
        claims: [claim],
      },
    );
    expect(v1beta1).toEqual({ claims: { [claim.uid]: { error: '' } } });
  });

  it('fails, hangs or reports a per-claim error on demand, and streams a device turning unhealthy', async () => {
    const dra = dial(plugin.endpoint);
    const claim = { namespace: 'default', uid: '00000000-0000-0000-0000-000000000002', name: 'c' };
    plugin.failNext('NodePrepareResources', { code: grpc.status.UNAVAILABLE, message: 'driver restarting' });
    const failed = await unary(dra, draV1Service.NodePrepareResources, { claims: [claim] }).catch(
      (e: grpc.ServiceError) => e,
    );
    expect(failed).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'driver restarting' });

    plugin.failNext('NodeUnprepareResources', 'hang');
    const hung = await unary(dra, draV1Service.NodeUnprepareResources, { claims: [claim] }, 300).catch(
      (e: grpc.ServiceError) => e,
    );
    expect(hung).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });

    plugin.failNext('NodeUnprepareResources', { claimError: 'device busy' });
    const refused = await unary<NodeUnprepareResourcesResponse>(dra, draV1Service.NodeUnprepareResources, {
      claims: [claim],
    });
    expect(refused.claims[claim.uid]).toEqual({ error: 'device busy' });
    expect(plugin.calls.map((c) => c.error?.code)).toEqual([grpc.status.UNAVAILABLE, undefined, undefined]);

    const health = dra.makeServerStreamRequest(
      draHealthV1alpha1Service.NodeWatchResources.path,
      draHealthV1alpha1Service.NodeWatchResources.requestSerialize as (v: object) => Buffer,
      draHealthV1alpha1Service.NodeWatchResources.responseDeserialize as (
        b: Buffer,
      ) => NodeWatchResourcesResponse,
      {},
    );
    const answers: NodeWatchResourcesResponse[] = [];
    const two = new Promise<void>((resolve) =>
      health.on('data', (a: NodeWatchResourcesResponse) => {
        answers.push(a);
        if (answers.length === 1) plugin.markUnhealthy('device-01');
        if (answers.length === 2) resolve();
      }),
    );
    health.on('error', () => undefined);
    await two;
    expect(answers[1]?.devices.map((d) => d.health)).toEqual(['HEALTHY', 'UNHEALTHY']);
    expect(answers[1]?.devices[1]).toEqual({
      device: { poolName: NODE, deviceName: 'device-01' },
      health: 'UNHEALTHY',
      lastUpdatedTime: 1_800_000_000,
      // The fake names no timeout and no message: the kubelet's default timeout applies.
      healthCheckTimeoutSeconds: 0,
      message: '',
    });
    expect(() => plugin.markUnhealthy('device-99')).toThrow(RangeError);
  });
});
