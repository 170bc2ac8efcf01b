import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import type { ResourceClaim } from '../src/dra/resource-claim';
import { deleting } from './helpers/deleting-pod';
import { claim, DRIVER, FakeDriver } from './helpers/dra-fake-driver';
import { busybox, type EngineHarness, startEngine } from './helpers/engine';

const ENDPOINT = '/var/lib/kubelet/plugins/test-driver.cdi.k8s.io/dra.sock';

let h: EngineHarness;
let driver: FakeDriver;
let claims: Map<string, ResourceClaim>;
let events: string[];

function draPod(uid: string): Pod {
  return {
    metadata: {
      name: 'np-dra-upstream',
      namespace: 'default',
      uid,
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      terminationGracePeriodSeconds: 1,
      resourceClaims: [{ name: 'r', resourceClaimName: 'np-dra-upstream-r-z8n6w' }],
      containers: [
        { name: 'c', image: busybox, command: ['sleep', '3600'], resources: { claims: [{ name: 'r' }] } },
      ],
    },
  };
}

async function register(kubelet = h.kubelet): Promise<void> {
  kubelet.dra.plugins.validatePlugin(DRIVER, ENDPOINT, ['v1.DRAPlugin']);
  await kubelet.dra.plugins.registerPlugin(DRIVER, ENDPOINT, ['v1.DRAPlugin']);
}

beforeEach(async () => {
  driver = new FakeDriver();
  claims = new Map();
  events = [];
  h = await startEngine({
    api: {
      dra: {
        claims: {
          async getResourceClaim(namespace, name) {
            const found = claims.get(`${namespace}/${name}`);
            if (!found) throw Object.assign(new Error('not found'), { code: 404 });
            return found;
          },
        },
        connector: driver.connect,
      },
      recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason} ${message}`),
    },
  });
});

afterEach(async () => {
  await h.close();
});

describe('a pod with a ResourceClaim', () => {
  it('waits with FailedPrepareDynamicResources while its driver is absent, runs once it registers, and is unprepared when deleted', async () => {
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'uid-dra-1'));
    const pod = draPod('uid-dra-1');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(events).toContain(
      `Warning FailedPrepareDynamicResources Failed to prepare dynamic resources: prepare dynamic resources: DRA driver ${DRIVER} is not registered`,
    );
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
    const waiting = h.writer.last('uid-dra-1');
    expect(waiting?.phase).toBe('Pending');
    expect(waiting?.containerStatuses?.[0]?.state.waiting?.reason).toBe('ContainerCreating');

    await register();
    h.kubelet.resyncPods([pod]);
    await h.settleThroughRelists();
    expect(driver.prepareCalls).toEqual([
      [{ namespace: 'default', uid: 'e54af637', name: 'np-dra-upstream-r-z8n6w' }],
    ]);
    expect(h.writer.last('uid-dra-1')?.phase).toBe('Running');
    expect((await h.client.listContainers({})).containers).toHaveLength(1);
    expect(driver.unprepareCalls).toHaveLength(0);

    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    expect(driver.unprepareCalls).toEqual([
      [{ namespace: 'default', uid: 'e54af637', name: 'np-dra-upstream-r-z8n6w' }],
    ]);
    expect(h.kubelet.dra.podMightNeedToUnprepareResources('uid-dra-1')).toBe(false);
  });

  it('waits on a claim the scheduler has not allocated, and on a failed prepare, which the next sync retries', async () => {
    await register();
    claims.set(
      'default/np-dra-upstream-r-z8n6w',
      claim('np-dra-upstream-r-z8n6w', 'e54af637', 'uid-dra-2', { allocated: false }),
    );
    const pod = draPod('uid-dra-2');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(events).toContain(
      'Warning FailedPrepareDynamicResources Failed to prepare dynamic resources: prepare dynamic resources: ResourceClaim np-dra-upstream-r-z8n6w: not allocated',
    );
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'uid-dra-2'));
    driver.claimError = 'device not ready';
    h.kubelet.resyncPods([pod]);
    await h.settleThroughRelists();
    expect(events).toContain(
      'Warning FailedPrepareDynamicResources Failed to prepare dynamic resources: prepare dynamic resources: NodePrepareResources failed for ResourceClaim np-dra-upstream-r-z8n6w: device not ready',
    );
    expect(h.writer.last('uid-dra-2')?.phase).toBe('Pending');
    // The failed sync is retried after the retry delay.
    driver.claimError = undefined;
    h.clock.advance(3_600_000);
    await h.settleThroughRelists();
    expect(driver.prepareCalls).toHaveLength(2);
    expect(h.writer.last('uid-dra-2')?.phase).toBe('Running');
  });

  it('keeps a pod terminating while its unprepare fails, and finishes it when a retry succeeds', async () => {
    await register();
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'uid-dra-4'));
    const pod = draPod('uid-dra-4');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(h.writer.last('uid-dra-4')?.phase).toBe('Running');
    driver.unprepareError = Object.assign(new Error('14 UNAVAILABLE: connection refused'), {
      code: 14,
      details: 'connection refused',
    });
    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    const failed = driver.unprepareCalls.length;
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(h.kubelet.dra.podMightNeedToUnprepareResources('uid-dra-4')).toBe(true);
    expect(h.writer.last('uid-dra-4')?.phase).toBe('Running');
    driver.unprepareError = undefined;
    h.clock.advance(3_600_000);
    await h.settleThroughRelists();
    expect(driver.unprepareCalls).toHaveLength(failed + 1);
    expect(h.kubelet.dra.podMightNeedToUnprepareResources('uid-dra-4')).toBe(false);
    expect(['Succeeded', 'Failed']).toContain(h.writer.last('uid-dra-4')?.phase);
  });

  it('keeps a prepared claim across a kubelet restart (no second NodePrepareResources) and unprepares it after', async () => {
    await register();
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'uid-dra-3'));
    const pod = draPod('uid-dra-3');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(h.writer.last('uid-dra-3')?.phase).toBe('Running');
    await h.kubelet.stop();

    const restarted = await h.restart();
    await register(restarted);
    restarted.addPod(pod);
    await restarted.settle();
    await restarted.pleg.relist();
    await restarted.settle();
    expect(driver.prepareCalls).toHaveLength(1);
    expect((await h.client.listContainers({})).containers.filter((c) => c.state === 1)).toHaveLength(1);
    restarted.updatePod(deleting(pod));
    for (let i = 0; i < 5; i++) {
      await restarted.settle();
      await restarted.pleg.relist();
    }
    await restarted.settle();
    expect(driver.unprepareCalls).toEqual([
      [{ namespace: 'default', uid: 'e54af637', name: 'np-dra-upstream-r-z8n6w' }],
    ]);
  });
});

describe('a pod with a ResourceClaim on a kubelet without an API server', () => {
  it('waits with FailedPrepareDynamicResources instead of running unprepared', async () => {
    const seen: string[] = [];
    const standalone = await startEngine({
      api: { recordEvent: (_pod, type, reason, message) => seen.push(`${type} ${reason} ${message}`) },
    });
    try {
      standalone.kubelet.addPod(draPod('uid-dra-s'));
      await standalone.settleThroughRelists();
      expect(seen).toContain(
        'Warning FailedPrepareDynamicResources Failed to prepare dynamic resources: prepare dynamic resources: fetch ResourceClaim np-dra-upstream-r-z8n6w: no API server to read it from (standalone mode)',
      );
      expect((await standalone.client.listPodSandbox({})).items).toHaveLength(0);
      expect(standalone.writer.last('uid-dra-s')?.phase).toBe('Pending');
    } finally {
      await standalone.close();
    }
  });
});

describe('a pod whose template claim was never created', () => {
  it('terminates without calling a driver', async () => {
    const seen: string[] = [];
    const engine = await startEngine({
      api: {
        dra: {
          claims: { getResourceClaim: async () => Promise.reject(new Error('unused')) },
          connector: driver.connect,
        },
        recordEvent: (_pod, type, reason, message) => seen.push(`${type} ${reason} ${message}`),
      },
    });
    try {
      const pod: Pod = {
        metadata: {
          name: 'tpl',
          namespace: 'default',
          uid: 'uid-dra-t',
          creationTimestamp: new Date().toISOString(),
        },
        spec: {
          terminationGracePeriodSeconds: 1,
          resourceClaims: [{ name: 'r', resourceClaimTemplateName: 'r' }],
          containers: [{ name: 'c', image: busybox, resources: { claims: [{ name: 'r' }] } }],
        },
      };
      engine.kubelet.addPod(pod);
      await engine.settleThroughRelists();
      expect(seen).toContain(
        'Warning FailedPrepareDynamicResources Failed to prepare dynamic resources: prepare dynamic resources: pod "default/tpl": ResourceClaim not created yet',
      );
      engine.kubelet.updatePod(deleting(pod));
      await engine.settleThroughRelists();
      expect(['Succeeded', 'Failed']).toContain(engine.writer.last('uid-dra-t')?.phase);
      expect(driver.unprepareCalls).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});
