import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { CrashLoopBackOff } from '../src/pod/crash-loop-backoff';
import { ensureImage, forgetSettledPullErrors } from '../src/sync/image-puller';

const refusingRuntime = {
  imageRef: async () => undefined,
  pullImage: async () => {
    throw new Error('not found');
  },
} as unknown as PodRuntime;

const pod: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'uid-p' },
  spec: { containers: [{ name: 'c', image: 'registry.example.com/nope:1' }] },
};

describe("the last pull error shown during ImagePullBackOff (upstream's prevPullErrMsg)", () => {
  it('is kept while the pull backs off and dropped once it no longer does', async () => {
    const clock = new FakeClock(1_000_000);
    const backoff = new CrashLoopBackOff({ clock });
    const pull = () => ensureImage(refusingRuntime, pod, pod.spec.containers[0]!, [], {}, backoff, clock);
    await expect(pull()).rejects.toMatchObject({ code: 'ErrImagePull' });
    expect(forgetSettledPullErrors(backoff)).toBe(1);
    await expect(pull()).rejects.toMatchObject({
      code: 'ImagePullBackOff',
      message: 'Back-off pulling image "registry.example.com/nope:1": ErrImagePull: not found',
    });
    // The pod is deleted while backing off; its 10 s back-off ends and nothing pulls again.
    clock.advance(10_001);
    expect(forgetSettledPullErrors(backoff)).toBe(0);
    expect(forgetSettledPullErrors(new CrashLoopBackOff({ clock }))).toBe(0);
  });
});
