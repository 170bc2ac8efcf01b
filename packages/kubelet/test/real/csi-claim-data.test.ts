import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageV1Api } from '@kubernetes/client-node';
import {
  type CsiVolumeMounter,
  type DriverRegistrar,
  FakeCsiPlugin,
  startDriverRegistrar,
} from '@nodeagent/testing/csi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { apiCsiNodeInfo } from '../../src/volumes/csi/api-csi-node-info';
import { apiCsiStorageObjects } from '../../src/volumes/csi/api-csi-storage-objects';
import { createBoundClaim } from '../helpers/csi-claims';
import { bindClaim } from '../helpers/csi-volume-harness';
import { type NodeHarness, startNodeHarness, waitFor } from './node-harness';

/**
 * A claim on real containerd: a pod writes into its CSI claim, is deleted (unpublished and
 * unstaged), and a new pod on the same claim reads the data back. The driver is the project's
 * FakeCsiPlugin; its volumes appear at the staging and publish paths as symlinks to the volume's
 * directory, which containerd's bind mount of the publish path follows, so nothing is ever
 * mounted in the host's mount table by the test (the kernel's bind mounts of the fake are
 * covered in a mount namespace of the test's own: csi-faults.test.ts).
 */
const DRIVER = 'claims.csi.test';
let node: NodeHarness;
let plugin: FakeCsiPlugin;
let registrar: DriverRegistrar;

const symlinkMounter: CsiVolumeMounter = {
  async bind(source, target) {
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await symlink(source, target);
  },
  async unbind(target) {
    await rm(target, { force: true });
  },
};

beforeAll(async () => {
  // The harness starts its API server itself: the kubelet's CSI view of it is built on first use.
  node = await startNodeHarness({
    kubelet: {
      api: {
        csi: {
          nodeInfo: {
            reachable: () => csi().nodeInfo.reachable(),
            initialize: () => csi().nodeInfo.initialize(),
            installDriver: (driver, topology) => csi().nodeInfo.installDriver(driver, topology),
            uninstallDriver: (name) => csi().nodeInfo.uninstallDriver(name),
            updateDriverAllocatable: (name, count) => csi().nodeInfo.updateDriverAllocatable(name, count),
          },
          objects: {
            claim: (ns, name) => csi().objects.claim(ns, name),
            persistentVolume: (name) => csi().objects.persistentVolume(name),
            csiDriver: (name) => csi().objects.csiDriver(name),
            volumeAttachment: (name) => csi().objects.volumeAttachment(name),
          },
        },
      },
    },
  });
  const storage = node.api.kubeConfig().makeApiClient(StorageV1Api);
  await storage.createCSIDriver({
    body: {
      metadata: { name: DRIVER },
      spec: { attachRequired: false, volumeLifecycleModes: ['Persistent'] },
    },
  });
  await createBoundClaim(node.core, DRIVER, 'data', 'pv-data', 'vol-data');
  plugin = await FakeCsiPlugin.start({ driverName: DRIVER, nodeId: node.nodeName, mounter: symlinkMounter });
  registrar = await startDriverRegistrar({
    registrationDir: join(node.dir, 'root', 'plugins_registry'),
    driverName: DRIVER,
    endpoint: plugin.socketPath,
  });
  await waitFor('the driver registered', () => (registrar.statuses.length > 0 ? true : undefined), 60_000);
}, 180_000);

afterAll(async () => {
  await node?.stop();
  await registrar?.stop();
  await plugin?.stop();
}, 120_000);

/** The kubelet's CSI API view, built once the harness's API server exists. */
let built: { nodeInfo: ReturnType<typeof apiCsiNodeInfo>; objects: ReturnType<typeof apiCsiStorageObjects> };
function csi() {
  if (!built) {
    const storage = node.api.kubeConfig().makeApiClient(StorageV1Api);
    built = {
      nodeInfo: apiCsiNodeInfo(node.nodeName, node.core, storage),
      objects: apiCsiStorageObjects(node.core, storage),
    };
  }
  return built;
}

function claimPod(
  name: string,
  script: string,
): { metadata: Pod['metadata']; spec: Omit<Pod['spec'], 'nodeName'> } {
  return {
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      containers: [
        {
          name: 'app',
          image: node.busybox,
          command: ['sh', '-c', script],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
    },
  };
}

async function deleted(name: string): Promise<void> {
  node.deletePod(name);
  await waitFor(`${name} gone from the API`, () => (node.getPod(name) ? undefined : true), 90_000);
}

describe('a CSI claim on real containerd', () => {
  it('keeps what one pod wrote for the next pod on the same claim', async () => {
    node.createPod(claimPod('writer', 'echo written-before-delete > /data/f && sleep 3600'));
    await node.waitPod(
      'writer',
      'Running',
      (p) => (p.status?.phase === 'Running' ? true : undefined),
      90_000,
    );
    const volumeFile = join(plugin.volumeDir('vol-data'), 'f');
    await waitFor('the write in the volume', async () =>
      (await readFile(volumeFile, 'utf8').catch(() => '')) === 'written-before-delete\n' ? true : undefined,
    );
    expect([...plugin.staged.keys()]).toEqual(['vol-data']);
    expect(plugin.published.size).toBe(1);

    await deleted('writer');
    await waitFor('unstaged', () => (plugin.staged.size === 0 ? true : undefined), 60_000);
    expect(plugin.published.size).toBe(0);
    const methods = plugin.calls
      .map((c) => c.method.split('/').at(-1))
      .filter((m) => m !== 'NodeGetCapabilities');
    expect(methods.slice(-2)).toEqual(['NodeUnpublishVolume', 'NodeUnstageVolume']);

    node.createPod(claimPod('reader', 'sleep 3600'));
    await node.waitPod(
      'reader',
      'Running',
      (p) => (p.status?.phase === 'Running' ? true : undefined),
      90_000,
    );
    expect(await node.exec('reader', 'app', ['cat', '/data/f'])).toBe('written-before-delete\n');
    await deleted('reader');
    await waitFor('unstaged again', () => (plugin.staged.size === 0 ? true : undefined), 60_000);
    expect(plugin.published.size).toBe(0);
  }, 240_000);
});

describe('a claim on a hostPath PersistentVolume (a local-path provisioner) on real containerd', () => {
  it("gives the container the node's directory, created by its type check", async () => {
    await node.core.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'local-data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
      },
    });
    const path = join(node.dir, 'local-path', 'pvc-local-data');
    await bindClaim(node.core, 'default', 'local-data', {
      name: 'pv-local-data',
      volumeHandle: '',
      csi: undefined,
      hostPath: { path, type: 'DirectoryOrCreate' },
    });
    const pod = claimPod('local-writer', 'echo on-the-node > /data/f && sleep 3600');
    pod.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'local-data' } }];
    node.createPod(pod);
    await node.waitPod(
      'local-writer',
      'Running',
      (p) => (p.status?.phase === 'Running' ? true : undefined),
      90_000,
    );
    await waitFor('the write on the node', async () =>
      (await readFile(join(path, 'f'), 'utf8').catch(() => '')) === 'on-the-node\n' ? true : undefined,
    );
    await deleted('local-writer');
    // The node's data outlives the pod, as a hostPath volume's does.
    expect(await readFile(join(path, 'f'), 'utf8')).toBe('on-the-node\n');
  }, 240_000);
});
