/**
 * A DRA claim's CDI devices in a real containerd pod (1.6, or 2.1 with NODEAGENT_CONTAINERD=2.1):
 * upstream's test driver (FakeDraPlugin) registers through plugins_registry, the kubelet prepares
 * the pod's claim before its sandbox (the driver writes the CDI spec into containerd's
 * cdi_spec_dirs) and CreateContainer carries the claim's CDI device. containerd 2.1 applies the
 * spec's edits, so the container sees the claim's env; 1.6 ignores CDI_devices, as the recording
 * on 1.6 shows (cdi-env=no). Deleting the pod unprepares the claim and the spec goes.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeDraPlugin } from '@nodeagent/testing/dra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceClaim } from '../../src/dra/resource-claim';
import { type NodeHarness, startNodeHarness } from './node-harness';

const DRIVER = 'test-driver.cdi.k8s.io';
const CLAIM = 'np-dra-claim';

let node: NodeHarness;
let plugin: FakeDraPlugin | undefined;

const claims = () => node.api.resource('resource.k8s.io/v1', 'resourceclaims');

beforeAll(async () => {
  node = await startNodeHarness({
    kubelet: {
      api: {
        dra: {
          // The harness's API server exists once it started: read at each call.
          claims: {
            getResourceClaim: async (namespace, name) =>
              structuredClone(node.api.registry.get(claims(), namespace, name)) as unknown as ResourceClaim,
          },
        },
      },
    },
  });
  const cdiDir = join(node.containerd.baseDir, 'cdi');
  plugin = await FakeDraPlugin.start({
    driverName: DRIVER,
    nodeName: node.nodeName,
    rootDir: join(node.dir, 'root'),
    cdiDir,
    kubeConfig: node.api.kubeConfig(),
  });
  node.api.registry.create(node.api.resource('resource.k8s.io/v1', 'deviceclasses'), undefined, {
    metadata: { name: DRIVER },
    spec: { selectors: [{ cel: { expression: `device.driver == "${DRIVER}"` } }] },
  });
  node.api.registry.create(claims(), 'default', {
    metadata: { name: CLAIM, namespace: 'default' },
    spec: { devices: { requests: [{ name: 'dev', exactly: { deviceClassName: DRIVER } }] } },
  });
}, 180_000);

afterAll(async () => {
  await plugin?.stop();
  await node?.stop();
}, 120_000);

/** What the scheduler does for the pod: the claim allocated the node's device-00 and reserved for it. */
function allocateFor(pod: { metadata: { name?: string; uid?: string } }): void {
  const current = node.api.registry.get(claims(), 'default', CLAIM) as Record<string, unknown>;
  node.api.registry.update(
    claims(),
    'default',
    CLAIM,
    {
      ...current,
      status: {
        allocation: {
          devices: {
            results: [{ request: 'dev', driver: DRIVER, pool: node.nodeName, device: 'device-00' }],
          },
        },
        reservedFor: [{ resource: 'pods', name: pod.metadata.name, uid: pod.metadata.uid }],
      },
    },
    'status',
  );
}

describe('a DRA claim on containerd', () => {
  it("prepares the claim before the sandbox, hands the container the claim's CDI device and unprepares it after", async () => {
    // The plugin manager reconciles every second.
    for (let i = 0; i < 300 && plugin!.registrationStatuses.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(plugin!.registrationStatuses).toEqual([{ pluginRegistered: true, error: '' }]);

    const pod = node.createPod({
      metadata: { name: 'np-dra', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 1,
        resourceClaims: [{ name: 'r', resourceClaimName: CLAIM }],
        containers: [
          {
            name: 'c',
            image: node.busybox,
            command: ['sleep', '3600'],
            resources: { claims: [{ name: 'r' }] },
          },
        ],
      },
    });
    allocateFor(pod);
    await node.waitPod(
      'np-dra',
      'Running',
      (p) => (p.status?.phase === 'Running' ? true : undefined),
      90_000,
    );
    const uid = (node.api.registry.get(claims(), 'default', CLAIM) as { metadata: { uid: string } }).metadata
      .uid;
    await access(plugin!.cdiSpecPath(uid));
    expect(node.kubelet.dra!.containerCdiDevices(node.getPod('np-dra')!, pod.spec.containers[0]!)).toEqual([
      `${DRIVER}/test=claim-${uid}-dev`,
    ]);
    const env = await node.exec('np-dra', 'c', ['sh', '-c', 'env | grep -e ^claim_ -e ^dev_ | sort']);
    const version = (node.containerd as { version?: string }).version;
    expect(['1.6', '2.1']).toContain(version);
    if (version === '2.1')
      expect(env).toBe(`claim_np_dra_claim_dev=true\ndev_device_00=${node.nodeName}/device-00\n`);
    else expect(env).toBe('');

    node.deletePod('np-dra', 1);
    // A call is recorded when it arrives; its response only once the plugin removed the spec.
    const unprepares = () => plugin!.calls.filter((c) => c.method.endsWith('/NodeUnprepareResources'));
    for (let i = 0; i < 300 && !unprepares().some((c) => c.response); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unprepares()).toHaveLength(1);
    expect(unprepares()[0]!.response).toEqual({ claims: { [uid]: { error: '' } } });
    await expect(access(plugin!.cdiSpecPath(uid))).rejects.toThrow();
  }, 240_000);
});
