import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CoreV1Api, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { formatPodResourcesAnswers, PodResourcesClient } from '@nodeagent/testing';
import { ManualClock } from '@nodeagent/testing/apiserver';
import { FakeDraPlugin } from '@nodeagent/testing/dra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePort, killChild, node, waitFor } from './binary-harness';
import { busybox, type FakeNodeKubelet, fakeNodeKubelet } from './fake-node-kubelet';
import { recordedPodResourcesAnswers, upstreamCase } from './node-plugins-recording';

// The binary with upstream's DRA test driver's cases (fidelity/node-plugins-v1.36): FakeDraPlugin
// registers in <root-dir>/plugins_registry, the control plane allocates a template claim on this
// node, the pod runs after NodePrepareResources, the pod-resources API lists its claim, a kill -9
// restart keeps the claim prepared, and deleting the pod unprepares it.
const nodeName = 'np-upstream';
const DRIVER = 'test-driver.cdi.k8s.io';

let fakeNode: FakeNodeKubelet;
let dir: string;
let core: CoreV1Api;
let dra: ResourceV1Api;
let child: ChildProcess | undefined;
let plugin: FakeDraPlugin | undefined;

beforeAll(async () => {
  fakeNode = await fakeNodeKubelet({
    nodeName,
    dirPrefix: 'na-kubelet-dra',
    api: {
      controlPlane: {
        clock: new ManualClock(),
        nodeLifecycle: false,
        taintEviction: false,
        replicaSet: false,
      },
    },
    config: ['nodeStatusUpdateFrequency: 1s'],
  });
  ({ dir, core } = fakeNode);
  dra = fakeNode.api.kubeConfig().makeApiClient(ResourceV1Api);
  // A slice a driver left behind before the kubelet started: wiped at start-up once the Node exists.
  await dra.createResourceSlice({
    body: {
      metadata: { name: 'stale' },
      spec: {
        driver: 'gone.example.com',
        nodeName,
        pool: { name: nodeName, generation: 1, resourceSliceCount: 1 },
        devices: [],
      },
    },
  });
  ({ child } = await fakeNode.startKubelet());
}, 60_000);

afterAll(async () => {
  await plugin?.stop();
  await fakeNode?.close();
});

function calls(method: string): number {
  return plugin!.calls.filter((c) => c.method.endsWith(`/${method}`)).length;
}

async function podPhase(name: string): Promise<string | undefined> {
  const p = await core.readNamespacedPod({ name, namespace: 'default' }).catch(() => undefined);
  return p?.status?.phase;
}

describe('nodeagent-kubelet binary with a DRA driver', { timeout: 180_000 }, () => {
  it('registers the driver, prepares the claim before the pod runs, lists it in pod-resources, keeps it across kill -9 and unprepares it on deletion', async () => {
    await waitFor(
      'the plugins_registry directory',
      async () => existsSync(join(dir, 'root', 'plugins_registry')),
      60_000,
    );
    await waitFor(
      'the stale ResourceSlice wiped at start-up',
      async () =>
        (await dra.listResourceSlice({ fieldSelector: `spec.nodeName=${nodeName}` })).items.length === 0
          ? true
          : undefined,
      60_000,
    );
    plugin = await FakeDraPlugin.start({
      driverName: DRIVER,
      nodeName,
      rootDir: join(dir, 'root'),
      cdiDir: join(dir, 'cdi'),
      kubeConfig: fakeNode.api.kubeConfig(),
    });

    // dra-register: ResourceSlices for the node: 1; GetInfo calls: 1
    await waitFor(
      'the driver registered',
      async () => (plugin!.registrationStatuses.length > 0 ? true : undefined),
      60_000,
    );
    expect(plugin.registrationStatuses).toEqual([{ pluginRegistered: true, error: '' }]);
    const slices = (await dra.listResourceSlice({ fieldSelector: `spec.nodeName=${nodeName}` })).items.length;
    expect(`ResourceSlices for the node: ${slices}; GetInfo calls: ${calls('GetInfo')}`).toBe(
      await upstreamCase('dra-register'),
    );

    // dra-prepare: the template claim allocated by the control plane, the pod Running after one prepare.
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
        metadata: { name: 'np-dra-ours' },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'c',
              image: busybox,
              command: ['sh', '-c', 'sleep 3600'],
              resources: { claims: [{ name: 'r' }] },
            },
          ],
          resourceClaims: [{ name: 'r', resourceClaimTemplateName: 'r' }],
        } as V1Pod['spec'],
      },
    });
    const phase = await waitFor(
      'the pod running',
      async () => {
        await fakeNode.api.controlPlane?.settled();
        const current = await podPhase('np-dra-ours');
        return current === 'Running' ? current : undefined;
      },
      60_000,
    );
    const pod = await core.readNamespacedPod({ name: 'np-dra-ours', namespace: 'default' });
    const claimName = pod.status?.resourceClaimStatuses?.[0]?.resourceClaimName as string;
    const claim = await dra.readNamespacedResourceClaim({ namespace: 'default', name: claimName });
    const uid = claim.metadata?.uid as string;
    const allocated = claim.status?.allocation?.devices?.results?.[0]?.device;
    const spec = existsSync(plugin.cdiSpecPath(uid)) ? 'written' : 'missing';
    // The fake runtime applies no CDI spec: the recording's cdi-env (containerd 1.6) is left out here.
    expect(
      `phase=${phase} claim=${claimName} allocated=${allocated} node=${pod.spec?.nodeName} NodePrepareResources calls=${calls('NodePrepareResources')} CDI spec=${spec}`,
    ).toBe(
      (await upstreamCase('dra-prepare'))
        .replace('np-dra-upstream-r-z8n6w', claimName)
        .replace(/ cdi-env=.*$/, ''),
    );

    // podres-list: the claim with its driver, pool, device and CDI device, as recorded.
    const client = new PodResourcesClient(join(dir, 'root', 'pod-resources', 'kubelet.sock'));
    try {
      const lines = formatPodResourcesAnswers({ list: await client.list(), allocatable: { devices: [] } });
      const recorded = (await recordedPodResourcesAnswers())
        .filter((l) => l.startsWith('pod default/np-dra-upstream '))
        .map((l) =>
          l
            .replace('np-dra-upstream-r-z8n6w', claimName)
            .replace('np-dra-upstream', 'np-dra-ours')
            .replace('e54af637-99ae-4f79-bb94-a7388ca29413', uid),
        );
      expect(lines).toEqual(recorded);
    } finally {
      client.close();
    }

    // A kill -9 and restart: the claim stays prepared (no second NodePrepareResources).
    await killChild(child);
    ({ child } = await fakeNode.startKubelet());
    await waitFor(
      'the driver registered again',
      async () => (plugin!.registrationStatuses.length > 1 ? true : undefined),
      60_000,
    );
    expect(await podPhase('np-dra-ours')).toBe('Running');
    expect(calls('NodePrepareResources')).toBe(1);

    // dra-unprepare: pods left=0 NodeUnprepareResources calls=1 CDI spec=removed
    await core.deleteNamespacedPod({ name: 'np-dra-ours', namespace: 'default' });
    await waitFor(
      'the pod gone',
      async () => ((await podPhase('np-dra-ours')) === undefined ? true : undefined),
      60_000,
    );
    const left = (await core.listNamespacedPod({ namespace: 'default' })).items.length;
    const removed = existsSync(plugin.cdiSpecPath(uid)) ? 'kept' : 'removed';
    expect(
      `pods left=${left} NodeUnprepareResources calls=${calls('NodeUnprepareResources')} CDI spec=${removed}`,
    ).toBe(await upstreamCase('dra-unprepare'));
  });

  it('refuses to start on a dra_manager_state whose checksum does not match, in one line', async () => {
    const rootDir = join(dir, 'root-corrupt');
    await mkdir(rootDir, { recursive: true });
    await writeFile(
      join(rootDir, 'dra_manager_state'),
      JSON.stringify({ Data: '{"Entries":null}', Checksum: 1 }),
    );
    const started = spawn(
      node,
      [
        cli,
        '--config',
        join(dir, 'config.yaml'),
        ...fakeNodeFlags({
          nodeName: 'np-corrupt',
          rootDir,
          endpoint: fakeNode.fake.endpoint,
          port: await freePort(),
        }),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => started.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(
      'Error: create ResourceClaim cache: GetOrCreate() on checkpoint state: failed to get checkpoint dra_manager_state: checkpoint is corrupted\n',
    );
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
