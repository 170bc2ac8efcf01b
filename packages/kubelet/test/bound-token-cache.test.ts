import { afterEach, describe, expect, it } from 'vitest';
import { BoundTokenCache } from '../src/volumes/bound-token-cache';
import { deleting } from './helpers/deleting-pod';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const request = (uid: string) => ({
  namespace: 'default',
  serviceAccountName: 'default',
  audiences: ['api'],
  expirationSeconds: 3600,
  boundPod: { name: uid, uid },
});

describe("service account tokens (upstream's token manager)", () => {
  it("drops a pod's tokens when it lets them go, and expired tokens within a minute of expiring", async () => {
    let now = 1_000_000;
    const cache = new BoundTokenCache<string>(() => now);
    let minted = 0;
    const mint = (lifetimeMs: number) => async () => ({ value: `t${++minted}`, expiresAt: now + lifetimeMs });
    expect(await cache.get(request('a'), mint(3_600_000))).toBe('t1');
    expect(await cache.get(request('a'), mint(3_600_000))).toBe('t1');
    expect(await cache.get(request('b'), mint(3_600_000))).toBe('t2');
    expect(await cache.get(request('c'), mint(120_000))).toBe('t3');
    cache.forgetPod('a');
    expect(cache.size).toBe(2);
    expect(await cache.get(request('a'), mint(3_600_000))).toBe('t4');
    // c's token expired two minutes in; the next use after that drops it.
    now += 180_000;
    expect(await cache.get(request('b'), mint(3_600_000))).toBe('t2');
    expect(cache.size).toBe(2);
  });

  it("lets a pod's tokens go once it has terminated", async () => {
    const forgotten: string[] = [];
    h = await startEngine({
      api: {
        tokens: {
          getToken: async ({ boundPod }) => `token-for-${boundPod.uid}`,
          forgetPod: (uid) => forgotten.push(uid),
        },
      },
    });
    const pod = testPod({
      volumes: [
        {
          name: 'token',
          projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] },
        },
      ],
    });
    pod.spec.containers[0]!.volumeMounts = [{ name: 'token', mountPath: '/var/run/token' }];
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(h.writer.last(pod.metadata.uid!)?.phase).toBe('Running');
    expect(forgotten).toEqual([]);
    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    expect(forgotten).toContain(pod.metadata.uid);
  });
});
