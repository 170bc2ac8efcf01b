import { join } from 'node:path';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { FakeCsiPlugin } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { type CsiEngineHarness, startCsiEngineHarness } from './helpers/csi-engine-harness';
import { ephemeralVolumeControllerOnly, NODE } from './helpers/csi-node-api-server';
import { bindClaim, createBoundBlockClaim } from './helpers/csi-volume-harness';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness } from './helpers/engine';

let csi: CsiEngineHarness;
let core: CoreV1Api;
let h: EngineHarness;
let plugin: FakeCsiPlugin;

beforeEach(async () => {
  csi = await startCsiEngineHarness({
    csiDriver: { attachRequired: false },
    server: ephemeralVolumeControllerOnly,
  });
  ({ core, h, plugin } = csi);
});

afterEach(async () => {
  await csi?.close();
});

describe('kubelet with generic ephemeral and block volumes', () => {
  it('admits a pod with a generic ephemeral volume and a block claim, runs it, and tears both down', async () => {
    await createBoundBlockClaim(core, 'raw', { name: 'pv-raw', volumeHandle: 'vol-raw' });
    const body: V1Pod = {
      metadata: { name: 'app', namespace: 'default' },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: busybox,
            command: ['sleep', '3600'],
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
            volumeDevices: [{ name: 'disk', devicePath: '/dev/xvda' }],
          },
        ],
        volumes: [
          {
            name: 'scratch',
            ephemeral: {
              volumeClaimTemplate: {
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
              },
            },
          },
          { name: 'disk', persistentVolumeClaim: { claimName: 'raw' } },
        ],
      },
    };
    const pod = (await core.createNamespacedPod({ namespace: 'default', body })) as unknown as Pod;
    await csi.server.controlPlane?.settled();
    await bindClaim(core, 'default', 'app-scratch', { name: 'pv-scratch', volumeHandle: 'vol-scratch' });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();

    const uid = pod.metadata.uid as string;
    const { containers } = await h.client.listContainers({});
    expect(containers).toHaveLength(1);
    const status = await h.client.containerStatus({ containerId: containers[0]!.id, verbose: false });
    expect(status.status?.mounts.find((m) => m.containerPath === '/scratch')?.hostPath).toBe(
      join(h.dir, 'root', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'pv-scratch', 'mount'),
    );
    expect(h.writer.last(uid)?.phase).toBe('Running');
    expect([...plugin.published.values()].sort()).toEqual(['vol-raw', 'vol-scratch']);

    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
    expect(plugin.published.size).toBe(0);
    expect(plugin.staged.size).toBe(0);
  });
});
