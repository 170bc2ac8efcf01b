import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { type ApiEventSink, apiEventSink } from '../src/sources/api-event-recorder';
import type { ClaimStatusWriter } from '../src/volumes/csi/csi-node-expansion';
import type { ClaimObject } from '../src/volumes/csi/csi-storage-objects';
import {
  bindClaim,
  type CsiVolumeHarness,
  type CsiVolumeHarnessOptions,
  NODE,
  setUpFailure,
  startCsiVolumeHarness,
} from './helpers/csi-volume-harness';

let h: CsiVolumeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Status patches the kubelet sent, in order. */
let patches: Record<string, unknown>[] = [];

/** The kubelet's event sink over the harness's server, when a test asks for claim events. */
let sink: ApiEventSink | undefined;

async function harness(
  opts: CsiVolumeHarnessOptions['plugin'] = {},
  claimEvents = false,
): Promise<CsiVolumeHarness> {
  patches = [];
  sink = undefined;
  const t = await startCsiVolumeHarness({
    csiDriver: { attachRequired: false },
    plugin: opts,
    csi: (core) => {
      if (claimEvents) sink = apiEventSink(core, { nodeName: NODE });
      return {
        claimStatus: {
          // Where the executable sends them (apiCsi's claimStatus.recordClaimEvent).
          ...(sink ? { recordClaimEvent: sink.claim } : {}),
          async patchClaimStatus(namespace, name, status) {
            patches.push(status);
            return (await core.patchNamespacedPersistentVolumeClaimStatus(
              { name, namespace, body: { status } },
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            )) as ClaimObject;
          },
        } satisfies ClaimStatusWriter,
      };
    },
  });
  h = t;
  await t.core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
    },
  });
  await bindClaim(t.core, 'default', 'data', { name: 'pv-data', volumeHandle: 'vol-data' });
  return t;
}

const pod: Pod = {
  metadata: { name: 'db', namespace: 'default', uid: 'uid-db' },
  spec: {
    containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
  },
};

/**
 * What the external resizer leaves after ControllerExpandVolume asked for node expansion: the
 * volume at the new size, the claim's allocatedResources and NodeResizePending, and its
 * FileSystemResizePending condition (or only the condition, as resizers before recovery did).
 */
async function resize(t: CsiVolumeHarness, size: string, legacy = false): Promise<void> {
  await growVolume(t, size);
  await t.core.patchNamespacedPersistentVolumeClaim(
    { name: 'data', namespace: 'default', body: { spec: { resources: { requests: { storage: size } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const pending = {
    type: 'FileSystemResizePending',
    status: 'True',
    lastTransitionTime: '2026-01-01T00:00:00Z',
    message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
  };
  await patchClaimStatus(
    t,
    legacy
      ? { conditions: [pending] }
      : {
          allocatedResources: { storage: size },
          allocatedResourceStatuses: { storage: 'NodeResizePending' },
          conditions: [pending],
        },
  );
}

/** The PersistentVolume at `size`, as the resizer leaves it after ControllerExpandVolume. */
async function growVolume(t: CsiVolumeHarness, size: string): Promise<void> {
  await t.core.patchPersistentVolume(
    { name: 'pv-data', body: { spec: { capacity: { storage: size } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** A JSON merge patch of the claim's status (null removes a field). */
async function patchClaimStatus(t: CsiVolumeHarness, status: Record<string, unknown>): Promise<void> {
  await t.core.patchNamespacedPersistentVolumeClaimStatus(
    { name: 'data', namespace: 'default', body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

const readClaim = (t: CsiVolumeHarness): Promise<V1PersistentVolumeClaim> =>
  t.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: 'default' });
const expandCalls = (t: CsiVolumeHarness) =>
  t.plugin.calls.filter((c) => c.method.endsWith('/NodeExpandVolume')).map((c) => c.request);
const target = (t: CsiVolumeHarness) =>
  join(t.root, 'pods', 'uid-db', 'volumes', 'kubernetes.io~csi', 'pv-data', 'mount');

describe('NodeExpandVolume (online expansion)', () => {
  it("expands a claim in use once the resizer leaves it to the node, and finishes the claim's status as upstream", async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    // Nothing to do while the claim has not grown.
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t)).toEqual([]);

    await resize(t, '2Mi');
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t)).toEqual([
      {
        volume_id: 'vol-data',
        volume_path: target(t),
        capacity_range: { required_bytes: 2097152 },
        staging_target_path: expect.stringMatching(
          /\/plugins\/kubernetes\.io\/csi\/hostpath\.csi\.k8s\.io\/[0-9a-f]{64}\/globalmount$/,
        ),
        volume_capability: { access_mode: { mode: 'SINGLE_NODE_WRITER' }, mount: {} },
      },
    ]);
    expect(t.plugin.expanded.get('vol-data')).toBe(2097152);
    expect(patches[0]).toEqual({ allocatedResourceStatuses: { storage: 'NodeResizeInProgress' } });
    const claim = await readClaim(t);
    expect(claim.status?.capacity).toEqual({ storage: '2Mi' });
    expect(claim.status?.conditions ?? []).toEqual([]);
    expect(claim.status?.allocatedResourceStatuses ?? {}).toEqual({});
    expect(claim.status?.allocatedResources).toEqual({ storage: '2Mi' });
    expect(t.events).toEqual([
      `FileSystemResizeSuccessful: MountVolume.NodeExpandVolume succeeded for volume "pv-data" ${NODE}`,
    ]);
    // Done: the next sync finds the claim at the volume's size.
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t)).toHaveLength(1);
  });

  it('leaves a claim the resizer has not handed to the node alone, and expands one of an older resizer (condition only)', async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    await growVolume(t, '2Mi');
    await patchClaimStatus(t, {
      allocatedResources: { storage: '2Mi' },
      allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
    });
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t)).toEqual([]);

    await patchClaimStatus(t, { allocatedResources: null, allocatedResourceStatuses: null });
    await resize(t, '3Mi', true);
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(t.plugin.expanded.get('vol-data')).toBe(3 * 1048576);
    // No resize status to mark in progress: only the finishing patch.
    expect(patches).toHaveLength(1);
    expect((await readClaim(t)).status?.capacity).toEqual({ storage: '3Mi' });
  });

  it("records a driver's failure on the claim and the pod, retries on the next sync, and gives up on a driver that cannot expand in use", async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    await resize(t, '2Mi');
    t.plugin.failNext('NodeExpandVolume', { code: 13, message: 'disk busy' });
    await t.volumes.setUp(pod, { objects: {} as never });
    const failed = await readClaim(t);
    expect(failed.status?.capacity).toEqual({ storage: '1Mi' });
    expect(failed.status?.allocatedResourceStatuses).toEqual({ storage: 'NodeResizeInProgress' });
    const error =
      'Expander.NodeExpand failed to expand the volume : rpc error: code = Internal desc = disk busy';
    expect(failed.status?.conditions?.map((c) => [c.type, c.status, c.message])).toEqual([
      [
        'FileSystemResizePending',
        'True',
        'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
      ],
      ['NodeResizeError', 'True', `failed to expand pvc with ${error}`],
    ]);
    expect(t.events).toEqual([
      `VolumeResizeFailed: NodeExpandVolume.NodeExpandVolume failed for volume "pv-data" : ${error}`,
    ]);

    await t.volumes.setUp(pod, { objects: {} as never });
    expect((await readClaim(t)).status?.capacity).toEqual({ storage: '2Mi' });
    expect((await readClaim(t)).status?.conditions ?? []).toEqual([]);

    await resize(t, '4Mi');
    t.plugin.failNext('NodeExpandVolume', { code: 9, message: 'volume in use' });
    await t.volumes.setUp(pod, { objects: {} as never });
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t)).toHaveLength(3);
    expect((await readClaim(t)).status?.capacity).toEqual({ storage: '2Mi' });
  });

  it('fails the mount of a claim grown while unused when the driver has no EXPAND_VOLUME, in upstream words', async () => {
    const t = await harness({ nodeCapabilities: ['GET_VOLUME_STATS'] });
    await resize(t, '2Mi');
    const error = await setUpFailure(t.volumes, pod);
    expect(error.events).toEqual([
      'MountVolume.Setup failed while expanding volume for volume "pv-data" : Expander.NodeExpand found CSI plugin kubernetes.io/csi/hostpath.csi.k8s.io to not support node expansion',
    ]);
    expect(expandCalls(t)).toEqual([]);
    // Not set up until the expansion succeeds: the next sync still waits (inside the mount back-off).
    const again = await setUpFailure(t.volumes, pod);
    expect(again.retryAfterMs).toBeGreaterThan(0);
    const claim = await readClaim(t);
    expect(claim.status?.conditions?.at(-1)?.type).toBe('NodeResizeError');
  });

  it('expands a volume another node already expanded (ReadWriteMany) without touching the claim', async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    await t.volumes.setUp(pod, { objects: {} as never });
    // Another node finished the expansion: the claim is at the new size, with no resize status.
    await growVolume(t, '2Mi');
    await patchClaimStatus(t, { capacity: { storage: '2Mi' }, allocatedResources: { storage: '2Mi' } });
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t).map((c) => (c as { capacity_range?: unknown }).capacity_range)).toEqual([
      { required_bytes: 2097152 },
    ]);
    expect(patches).toEqual([]);
    expect(t.events).toEqual([
      `FileSystemResizeSuccessful: MountVolume.NodeExpandVolume succeeded for volume "pv-data" ${NODE}`,
    ]);
    // This node now knows the volume at 2Mi.
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(expandCalls(t)).toHaveLength(1);
  });

  it('mounts a read-only claim grown while unused without expanding it, and says so on the pod', async () => {
    const t = await harness();
    await resize(t, '2Mi');
    const readOnly: Pod = {
      ...pod,
      spec: {
        ...pod.spec,
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data', readOnly: true } }],
      },
    };
    await t.volumes.setUp(readOnly, { objects: {} as never });
    await t.volumes.setUp(readOnly, { objects: {} as never });
    expect(expandCalls(t)).toEqual([]);
    expect(patches).toEqual([]);
    expect(t.events).toEqual([
      'FileSystemResizeFailed: MountVolume.NodeExpandVolume failed for volume "pv-data" requested read-only file system',
    ]);
  });

  it('marks the expansion infeasible when it fails again after the claim asked for another size', async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    await resize(t, '2Mi');
    t.plugin.failNext('NodeExpandVolume', { code: 13, message: 'disk busy' });
    await t.volumes.setUp(pod, { objects: {} as never });
    expect((await readClaim(t)).status?.allocatedResourceStatuses).toEqual({
      storage: 'NodeResizeInProgress',
    });
    // The user asks for 3Mi while the volume is still at 2Mi: the next final failure gives up on 2Mi.
    await t.core.patchNamespacedPersistentVolumeClaim(
      { name: 'data', namespace: 'default', body: { spec: { resources: { requests: { storage: '3Mi' } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    t.plugin.failNext('NodeExpandVolume', { code: 13, message: 'disk busy' });
    await t.volumes.setUp(pod, { objects: {} as never });
    const claim = await readClaim(t);
    expect(claim.status?.allocatedResourceStatuses).toEqual({ storage: 'NodeResizeInfeasible' });
    expect(claim.status?.capacity).toEqual({ storage: '1Mi' });
  });

  it("leaves an older resizer's claim as it is when the driver fails (no resize condition)", async () => {
    const t = await harness();
    await t.volumes.setUp(pod, { objects: {} as never });
    await resize(t, '2Mi', true);
    t.plugin.failNext('NodeExpandVolume', { code: 13, message: 'disk busy' });
    await t.volumes.setUp(pod, { objects: {} as never });
    expect(patches).toEqual([]);
    expect(t.events).toEqual([
      'VolumeResizeFailed: NodeExpandVolume.NodeExpandVolume failed for volume "pv-data" : Expander.NodeExpand failed to expand the volume : rpc error: code = Internal desc = disk busy',
    ]);
    await t.volumes.setUp(pod, { objects: {} as never });
    expect((await readClaim(t)).status?.capacity).toEqual({ storage: '2Mi' });
  });

  it("posts the success on the claim too, through the kubelet's event sink", async () => {
    const t = await harness({}, true);
    await t.volumes.setUp(pod, { objects: {} as never });
    await resize(t, '2Mi');
    await t.volumes.setUp(pod, { objects: {} as never });
    await sink?.flush();
    const events = (await t.core.listNamespacedEvent({ namespace: 'default' })).items;
    const claim = await readClaim(t);
    expect(
      events.map((e) => [
        e.involvedObject.kind,
        e.involvedObject.name,
        e.involvedObject.uid,
        e.reason,
        e.message,
      ]),
    ).toEqual([
      [
        'PersistentVolumeClaim',
        'data',
        claim.metadata?.uid,
        'FileSystemResizeSuccessful',
        `MountVolume.NodeExpandVolume succeeded for volume "pv-data" ${NODE}`,
      ],
    ]);
  });
});
