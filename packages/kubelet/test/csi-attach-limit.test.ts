import type { StorageV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { CsiDriverWatch } from '../src/volumes/csi/csi-node-allocatable-updater';
import { attachmentName } from '../src/volumes/csi/csi-volume-paths';
import { claimPod, createBoundClaim } from './helpers/csi-claims';
import { type CsiEngineHarness, startCsiEngineHarness } from './helpers/csi-engine-harness';
import { DRIVER, NODE } from './helpers/csi-node-api-server';

const HANDLE = 'vol-attach-limit';

let csi: CsiEngineHarness | undefined;
/** The kubelet's pod events, as `<type> <reason>: <message>`. */
let events: string[] = [];

afterEach(async () => {
  await csi?.close();
  csi = undefined;
  events = [];
});

/**
 * The CSIDriver watch as the binary's informer serves it: the driver opted in with a period
 * longer than the test, so no periodic NodeGetInfo comes between the ones counted.
 */
const optedIn: CsiDriverWatch = { nodeAllocatableUpdatePeriodMs: () => 3_600_000, onChange() {} };

/** What the external attacher writes when the driver's ControllerPublishVolume failed. */
async function failedAttachment(storage: StorageV1Api, errorCode: number): Promise<void> {
  const name = attachmentName(HANDLE, DRIVER, NODE);
  const created = await storage.createVolumeAttachment({
    body: {
      metadata: { name },
      spec: { attacher: DRIVER, nodeName: NODE, source: { persistentVolumeName: 'pv-limit' } },
    },
  });
  await storage.replaceVolumeAttachmentStatus({
    name,
    body: {
      ...created,
      status: { attached: false, attachError: { message: 'no slot left', time: new Date(), errorCode } },
    },
  });
}

async function startWithFailedAttach(errorCode: number): Promise<CsiEngineHarness> {
  const harness = await startCsiEngineHarness({
    csiDriver: { attachRequired: true },
    overrides: () => ({
      api: {
        csi: { driverWatch: optedIn } as never,
        recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason}: ${message}`),
      },
    }),
  });
  await createBoundClaim(harness.core, DRIVER, 'data', 'pv-limit', HANDLE);
  await failedAttachment(harness.storage, errorCode);
  return harness;
}

function nodeGetInfoCalls(harness: CsiEngineHarness): number {
  return harness.plugin.calls.filter((c) => c.method.endsWith('/NodeGetInfo')).length;
}

describe("a volume whose attach failed for want of a slot (MutableCSINodeAllocatableCount's VerifyExhaustedResource)", () => {
  it('rejects the pod once its wait for the volume times out (2 min 3 s), after asking the driver NodeGetInfo again', async () => {
    csi = await startWithFailedAttach(8);
    const { h } = csi;
    const registrationCalls = nodeGetInfoCalls(csi);
    h.kubelet.addPod(claimPod('limited', 'uid-limited', 'data'));
    await h.kubelet.settle();
    expect(h.writer.last('uid-limited')?.phase).toBe('Pending');
    // The mount is retried on its back-off (0.5 s, 1 s ... 64 s); the wait has not timed out yet.
    await h.clock.advanceAsync(122_000, () => h.kubelet.settle());
    expect(h.writer.last('uid-limited')?.phase).toBe('Pending');
    expect(nodeGetInfoCalls(csi)).toBe(registrationCalls);
    await h.clock.advanceAsync(8_000, () => h.kubelet.settle());
    const message =
      'Node has reached its volume attachment limit, rejecting pod. unmounted volumes=[data], unattached volumes=[data], failed to process volumes=[]: context deadline exceeded';
    expect(h.writer.last('uid-limited')).toMatchObject({
      phase: 'Failed',
      reason: 'VolumeAttachmentLimitExceeded',
      message: `Pod was rejected: ${message}`,
    });
    expect(events).toContain(`Warning VolumeAttachmentLimitExceeded: ${message}`);
    expect(
      await h.kubelet.metrics.registry.getSingleMetricAsString('kubelet_admission_rejections_total'),
    ).toContain('kubelet_admission_rejections_total{reason="VolumeAttachmentLimitExceeded"} 1');
    // The allocatable count is read again at once, not at the driver's next period.
    expect(nodeGetInfoCalls(csi)).toBe(registrationCalls + 1);
    // Nothing was staged and no sandbox was made for it.
    expect(csi.plugin.calls.some((c) => c.method.endsWith('/NodeStageVolume'))).toBe(false);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
  });

  it('keeps the pod waiting when the attach failed for another reason', async () => {
    csi = await startWithFailedAttach(13);
    const { h } = csi;
    const registrationCalls = nodeGetInfoCalls(csi);
    h.kubelet.addPod(claimPod('other-error', 'uid-other-error', 'data'));
    await h.kubelet.settle();
    await h.clock.advanceAsync(260_000, () => h.kubelet.settle());
    expect(h.writer.last('uid-other-error')?.phase).toBe('Pending');
    expect(nodeGetInfoCalls(csi)).toBe(registrationCalls);
  });
});
