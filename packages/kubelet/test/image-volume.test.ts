import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { validatePod } from '../src/pod/validate-pod';
import { busybox, type EngineHarness, startEngine } from './helpers/engine';

/**
 * Image volumes (ImageVolume, on by default since v1.35) as upstream's kubelet v1.36 handles them:
 * the pod is not refused; the sync pulls the volume's image like a container's (its pullPolicy,
 * the image manager's events on the pod itself, without a fieldPath) and hands CRI a mount that
 * names the image, with no host path. Whether the runtime can mount it is the runtime's business
 * (containerd 1.6 cannot: test/real/pod-status-golden.test.ts, pod image-volume).
 */
function imageVolumePod(pullPolicy?: 'Never' | 'IfNotPresent', reference = busybox): Pod {
  return {
    metadata: { name: 'img', namespace: 'default', uid: 'uid-img' },
    spec: {
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'v', mountPath: '/img' }],
        },
      ],
      volumes: [{ name: 'v', image: { reference, ...(pullPolicy ? { pullPolicy } : {}) } }],
    },
  };
}

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('image volumes', () => {
  it('are a supported volume source', () => {
    expect(validatePod(imageVolumePod())).toEqual([]);
  });

  it('pull the image on the pod (no fieldPath) and mount it through CRI Mount.image with no host path', async () => {
    const events: string[] = [];
    h = await startEngine({
      api: {
        recordEvent: (_pod, type, reason, message, fieldPath) =>
          events.push(`${fieldPath ?? '-'} ${type} ${reason}: ${message}`),
      },
    });
    h.kubelet.addPod(imageVolumePod('IfNotPresent'));
    await h.settleThroughRelists();
    const { containers } = await h.client.listContainers({});
    expect(containers).toHaveLength(1);
    const status = await h.client.containerStatus({ containerId: containers[0]!.id, verbose: false });
    const mount = status.status?.mounts.find((m) => m.containerPath === '/img');
    expect(mount?.hostPath).toBe('');
    expect(mount?.readonly).toBe(true);
    expect(mount?.image?.userSpecifiedImage).toBe(busybox);
    expect(mount?.image?.image).not.toBe('');
    expect(events).toContain(
      `- Normal Pulled: Container image "${busybox}" already present on machine and can be accessed by the pod`,
    );
    expect(events).toContain(
      `spec.containers{c} Normal Pulled: Container image "${busybox}" already present on machine and can be accessed by the pod`,
    );
  });

  it('with pullPolicy Never and the image absent, no container starts and the pod gets ErrImageNeverPull', async () => {
    const events: string[] = [];
    h = await startEngine({
      api: {
        recordEvent: (_pod, type, reason, message, fieldPath) =>
          events.push(`${fieldPath ?? '-'} ${type} ${reason}: ${message}`),
      },
    });
    h.kubelet.addPod(imageVolumePod('Never', 'localhost/absent:1'));
    await h.settleThroughRelists();
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
    expect(events.some((e) => e.startsWith('- Warning ErrImageNeverPull:'))).toBe(true);
  });
});
