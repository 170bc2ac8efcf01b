import { join } from 'node:path';
import type { CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import type { FakeCsiPlugin } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { csiStagingPath } from '../src/volumes/csi/csi-volume-paths';
import { claimPod, createBoundClaim } from './helpers/csi-claims';
import { type CsiEngineHarness, startCsiEngineHarness } from './helpers/csi-engine-harness';
import { DRIVER, NODE } from './helpers/csi-node-api-server';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness } from './helpers/engine';

let csi: CsiEngineHarness;
let core: CoreV1Api;
let storage: StorageV1Api;
let h: EngineHarness;
let plugin: FakeCsiPlugin;

beforeEach(async () => {
  csi = await startCsiEngineHarness({
    csiDriver: {
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Persistent', 'Ephemeral'],
    },
    plugin: { topology: { 'topology.hostpath.csi/node': NODE } },
  });
  ({ core, storage, h, plugin } = csi);
});

afterEach(async () => {
  await csi?.close();
});

describe('kubelet with a CSI driver', () => {
  it('registers it from <root-dir>/plugins_registry, runs a pod on its inline volume and unpublishes it when the pod is deleted', async () => {
    expect(csi.registrar.statuses).toEqual([{ pluginRegistered: true, error: '' }]);
    expect((await storage.readCSINode({ name: NODE })).spec.drivers?.map((d) => d.name)).toEqual([DRIVER]);
    expect(
      await h.kubelet.metrics.registry.getSingleMetricAsString('plugin_manager_total_plugins'),
    ).toContain(
      `plugin_manager_total_plugins{socket_path="${csi.registrar.socketPath}",state="actual_state_of_world"} 1`,
    );

    const pod: Pod = {
      metadata: {
        name: 'inline',
        namespace: 'default',
        uid: 'uid-inline',
        creationTimestamp: new Date().toISOString(),
      },
      spec: {
        serviceAccountName: 'default',
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: busybox,
            command: ['sleep', '3600'],
            volumeMounts: [{ name: 'v', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'v', csi: { driver: DRIVER, volumeAttributes: { size: '1Mi' } } }],
      },
    };
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const target = join(h.dir, 'root', 'pods', 'uid-inline', 'volumes', 'kubernetes.io~csi', 'v', 'mount');
    const { containers } = await h.client.listContainers({});
    expect(containers).toHaveLength(1);
    const status = await h.client.containerStatus({ containerId: containers[0]!.id, verbose: false });
    expect(status.status?.mounts.find((m) => m.containerPath === '/data')?.hostPath).toBe(target);
    expect(plugin.published.get(target)).toMatch(/^csi-[0-9a-f]{64}$/);
    expect(h.writer.last('uid-inline')?.phase).toBe('Running');

    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
    expect(plugin.published.size).toBe(0);
    const unpublish = plugin.calls.findIndex((c) => c.method.endsWith('/NodeUnpublishVolume'));
    expect(unpublish).toBeGreaterThan(0);
  });

  it('runs a pod on a claim bound to a CSI PersistentVolume: stages, publishes, and on deletion unpublishes and unstages', async () => {
    await createBoundClaim(core, DRIVER, 'data', 'pv-data', 'vol-data');
    const pod = claimPod('claimer', 'uid-claimer', 'data');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const target = join(
      h.dir,
      'root',
      'pods',
      'uid-claimer',
      'volumes',
      'kubernetes.io~csi',
      'pv-data',
      'mount',
    );
    const { containers } = await h.client.listContainers({});
    const status = await h.client.containerStatus({ containerId: containers[0]!.id, verbose: false });
    expect(status.status?.mounts.find((m) => m.containerPath === '/data')?.hostPath).toBe(target);
    expect(plugin.staged.get('vol-data')).toBe(csiStagingPath(join(h.dir, 'root'), DRIVER, 'vol-data'));
    expect(h.writer.last('uid-claimer')?.phase).toBe('Running');
    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    expect(plugin.published.size).toBe(0);
    expect(plugin.staged.size).toBe(0);
    const order = plugin.calls
      .map((c) => c.method.split('/').at(-1))
      .filter((m) => m !== 'NodeGetCapabilities');
    expect(order).toEqual([
      'NodeGetInfo',
      'NodeStageVolume',
      'NodePublishVolume',
      'NodeUnpublishVolume',
      'NodeUnstageVolume',
    ]);
  });

  it("keeps a pod on a driver that is not registered, or has no CSIDriver object, waiting with upstream's messages", async () => {
    const events: string[] = [];
    await storage.createCSIDriver({
      body: { metadata: { name: 'absent.csi.example.com' }, spec: { volumeLifecycleModes: ['Ephemeral'] } },
    });
    const pod: Pod = {
      metadata: {
        name: 'other',
        namespace: 'default',
        uid: 'uid-other',
        creationTimestamp: new Date().toISOString(),
      },
      spec: {
        containers: [
          {
            name: 'c',
            image: busybox,
            command: ['sleep', '3600'],
            volumeMounts: [{ name: 'v', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'v', csi: { driver: 'absent.csi.example.com' } }],
      },
    };
    const error = await h.kubelet.volumes.setUp(pod, { objects: {} as never }).catch((e: unknown) => e);
    events.push(...((error as { events?: string[] }).events ?? []));
    expect(events).toEqual([
      'MountVolume.SetUp failed for volume "v" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name absent.csi.example.com not found in the list of registered CSI drivers',
    ]);
    const noObject: Pod = {
      metadata: { ...pod.metadata, uid: 'uid-no-object' },
      spec: { ...pod.spec, volumes: [{ name: 'v', csi: { driver: 'unknown.csi.example.com' } }] },
    };
    const second = (await h.kubelet.volumes
      .setUp(noObject, { objects: {} as never })
      .catch((e: unknown) => e)) as {
      events: string[];
    };
    expect(second.events).toEqual([
      'MountVolume.SetUp failed for volume "v" : kubernetes.io/csi: volume mode "Ephemeral" not supported by driver unknown.csi.example.com (no CSIDriver object)',
    ]);
  });
});
