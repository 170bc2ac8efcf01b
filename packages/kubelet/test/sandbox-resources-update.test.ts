import { createCriClient, isUnimplemented } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { updatePodSandboxResourcesRequest } from '../src/cri/sandbox-resources-update';

function pod(overhead?: Record<string, string>): Pod {
  return {
    metadata: { name: 'p', namespace: 'rs', uid: 'u' },
    spec: {
      ...(overhead ? { overhead } : {}),
      containers: [{ name: 'c', image: 'busybox', resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
    },
  } as Pod;
}

const options = { cpuCFSQuota: true, cpuCFSQuotaPeriodUs: 100_000, oomGroupKill: false };

describe('updatePodSandboxResourcesRequest (upstream generateUpdatePodSandboxResourcesRequest, Linux)', () => {
  it('without spec.overhead: the pod cgroup’s values as they are, and an empty overhead', () => {
    const request = updatePodSandboxResourcesRequest(
      'sb1',
      pod(),
      { cpuShares: 307, cpuQuotaUs: 30000, cpuPeriodUs: 100000, memoryLimitBytes: 67108864n },
      options,
    );
    expect(request).toEqual({
      podSandboxId: 'sb1',
      overhead: {},
      resources: { cpuPeriod: 100000, cpuQuota: 30000, cpuShares: 307, memoryLimitInBytes: 67108864n },
    });
  });

  it('with spec.overhead: taken out of the quota, the shares (through millicores) and the memory, and sent apart', () => {
    // The pod cgroup of 100m/64Mi plus an overhead of 250m/120Mi: shares 358, quota 35000, 184Mi.
    const request = updatePodSandboxResourcesRequest(
      'sb1',
      pod({ cpu: '250m', memory: '120Mi' }),
      { cpuShares: 358, cpuQuotaUs: 35000, cpuPeriodUs: 100000, memoryLimitBytes: 192937984n },
      options,
    );
    expect(request.resources).toEqual({
      cpuPeriod: 100000,
      // 35000 - 250m's 25000.
      cpuQuota: 10000,
      // 358 shares are ceil(358000 / 1024) = 350m; 350m - 250m = 100m: 102 shares.
      cpuShares: 102,
      memoryLimitInBytes: 67108864n,
    });
    // Upstream convertOverheadToLinuxResources: requests equal to limits.
    expect(request.overhead).toEqual({
      cpuShares: 256,
      cpuPeriod: 100000,
      cpuQuota: 25000,
      memoryLimitInBytes: 125829120,
    });
  });

  it('sends cgroup v1’s “no memory limit” and an unlimited quota as the cgroup holds them', () => {
    const request = updatePodSandboxResourcesRequest(
      'sb1',
      pod(),
      { cpuShares: 2, cpuQuotaUs: -1, cpuPeriodUs: 100000, memoryLimitBytes: 9223372036854771712n },
      options,
    );
    expect(request.resources).toEqual({
      cpuPeriod: 100000,
      cpuQuota: -1,
      cpuShares: 2,
      memoryLimitInBytes: 9223372036854771712n,
    });
  });

  it('leaves out what the pod cgroup values do not hold', () => {
    expect(updatePodSandboxResourcesRequest('sb1', pod(), { cpuShares: 102 }, options).resources).toEqual({
      cpuShares: 102,
    });
  });

  it('reaches the runtime through criPodRuntime as built; a runtime without the call answers UNIMPLEMENTED', async () => {
    for (const podSandboxResources of [true, false]) {
      const fake = FakeRuntime.create({ podSandboxResources });
      const client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
      try {
        const runtime = criPodRuntime(client);
        const sandbox = await runtime.runPodSandbox({
          metadata: { name: 'p', uid: 'u', namespace: 'rs', attempt: 0 },
        });
        const request = updatePodSandboxResourcesRequest(
          sandbox,
          pod({ cpu: '250m' }),
          { cpuShares: 358, cpuQuotaUs: 35000, cpuPeriodUs: 100000, memoryLimitBytes: 67108864n },
          options,
        );
        const sent = runtime.updatePodSandboxResources!(request);
        if (!podSandboxResources) {
          expect(isUnimplemented(await sent.catch((e: unknown) => e))).toBe(true);
          continue;
        }
        await sent;
        expect(fake.sandboxResourceUpdates).toHaveLength(1);
        const [got] = fake.sandboxResourceUpdates;
        expect(got!.podSandboxId).toBe(sandbox);
        expect(got!.resources).toMatchObject({
          cpuShares: 102n,
          cpuQuota: 10000n,
          memoryLimitInBytes: 67108864n,
        });
        expect(got!.overhead).toMatchObject({ cpuShares: 256n, cpuQuota: 25000n, cpuPeriod: 100000n });
      } finally {
        client.close();
        await fake.stop();
      }
    }
  });
});
