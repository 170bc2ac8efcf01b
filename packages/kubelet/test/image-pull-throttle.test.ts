import { describe, expect, it } from 'vitest';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { throttleImagePulls } from '../src/images/image-pull-throttle';
import { podRuntimeStack } from '../src/runtime-stack';

/** A runtime whose pulls succeed at once (or wait for `gate`), recording the images pulled. */
function pullingRuntime(gate?: Promise<void>): { runtime: PodRuntime; pulled: string[] } {
  const pulled: string[] = [];
  const runtime = {
    pullImage: async (image: string) => {
      await gate;
      pulled.push(image);
      return `sha256:${image}`;
    },
  } as unknown as PodRuntime;
  return { runtime, pulled };
}

const pull = (runtime: PodRuntime, image: string) =>
  runtime.pullImage(image, undefined, {}).then(
    () => 'pulled',
    (error: Error) => error.message,
  );

describe('registryPullQPS / registryBurst (upstream throttledImageService)', () => {
  it('lets a burst through, then fails at once with "pull QPS exceeded" until the bucket refills at the QPS', async () => {
    let now = 1_000_000;
    const { runtime, pulled } = pullingRuntime();
    const throttled = throttleImagePulls(runtime, { registryPullQPS: 5, registryBurst: 10 }, () => now);
    const first = await Promise.all(Array.from({ length: 11 }, (_, i) => pull(throttled, `img-${i}`)));
    expect(first.filter((r) => r === 'pulled')).toHaveLength(10);
    expect(first[10]).toBe('pull QPS exceeded');
    expect(pulled).toHaveLength(10);
    now += 199;
    expect(await pull(throttled, 'early')).toBe('pull QPS exceeded');
    now += 1; // 200 ms at 5 QPS: one token
    expect(await pull(throttled, 'refilled')).toBe('pulled');
    expect(await pull(throttled, 'again')).toBe('pull QPS exceeded');
  });

  it('does not limit with a QPS of 0', async () => {
    const { runtime } = pullingRuntime();
    const throttled = throttleImagePulls(runtime, { registryPullQPS: 0, registryBurst: 1 }, () => 0);
    expect(throttled).toBe(runtime);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pull(throttled, `img-${i}`)));
    expect(results.every((r) => r === 'pulled')).toBe(true);
  });

  it('takes a token when a queued pull runs, not when it is queued (the throttle sits inside the pull slots)', async () => {
    let now = 0;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { runtime } = pullingRuntime(gate);
    const stack = podRuntimeStack(runtime, {
      config: {
        serializeImagePulls: true,
        maxParallelImagePulls: undefined,
        registryPullQPS: 1,
        registryBurst: 1,
      },
      podOf: () => undefined,
      now: () => now,
    });
    // One pull runs (and holds the slot) with the only token; the second waits for the slot.
    const first = pull(stack, 'a');
    const second = pull(stack, 'b');
    await new Promise((resolve) => setImmediate(resolve)); // the first has its slot and token
    now += 1000; // a token comes back while the second still waits
    open();
    expect(await Promise.all([first, second])).toEqual(['pulled', 'pulled']);
  });
});
