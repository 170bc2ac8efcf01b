import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { linuxContainerResources, oomGroupKill } from '../src/cri/linux-resources';
import { makePod } from './helpers/fixtures';

// Upstream v1.36 calculateLinuxResources for containers. On cgroup v2, unless singleProcessOOMKill is true,
// every container's CRI resources carry unified memory.oom.group=1 (TestCalculateLinuxResources
// expects it in each cgroup v2 case with singleProcessOOMKill false).

const pod = (resources: Container['resources']): Pod =>
  makePod({ containers: [{ name: 'foo', image: 'busybox', resources }] });
const container = (p: Pod) => p.spec.containers[0]!;
const gi = 1024 ** 3;

describe('memory.oom.group (singleProcessOOMKill)', () => {
  it('is asked for on cgroup v2 unless singleProcessOOMKill is true (unset means false there); never on v1', () => {
    expect(oomGroupKill(2, undefined)).toBe(true);
    expect(oomGroupKill(2, false)).toBe(true);
    expect(oomGroupKill(2, true)).toBe(false);
    expect(oomGroupKill(1, undefined)).toBe(false);
    expect(oomGroupKill(1, true)).toBe(false);
    expect(oomGroupKill(undefined, undefined)).toBe(false);
  });

  it('puts memory.oom.group=1 in the unified map, whatever the QoS class', () => {
    for (const p of [pod(undefined), pod({ requests: { cpu: '1' }, limits: { memory: '1Gi' } })]) {
      const resources = linuxContainerResources(p, container(p), {
        memoryCapacity: 8 * gi,
        oomGroupKill: true,
      });
      expect(resources.unified).toEqual({ 'memory.oom.group': '1' });
    }
    const p = pod(undefined);
    expect(linuxContainerResources(p, container(p), { memoryCapacity: 8 * gi }).unified).toBeUndefined();
  });

  it('keeps it beside the swap entry merged over it', () => {
    const p = pod({ requests: { memory: '1Gi' }, limits: { memory: '2Gi' } });
    const resources = linuxContainerResources(p, container(p), {
      memoryCapacity: 8 * gi,
      oomGroupKill: true,
      swap: {
        cgroupVersion: 2,
        swapControllerAvailable: true,
        behavior: 'NoSwap',
        memoryCapacity: 8 * gi,
        swapCapacity: 0,
      },
    });
    expect(resources.unified).toEqual({ 'memory.oom.group': '1', 'memory.swap.max': '0' });
  });
});

describe('CFS settings and shares (upstream calculateLinuxResources)', () => {
  it('sends the period whenever cpuCFSQuota is on (quota 0 without a limit), neither with it off, and caps shares', () => {
    const free = pod(undefined);
    expect(linuxContainerResources(free, container(free), { memoryCapacity: gi })).toMatchObject({
      cpuPeriod: 100_000,
      cpuQuota: 0,
    });
    const limited = pod({ limits: { cpu: '500m' } });
    expect(
      linuxContainerResources(limited, container(limited), {
        memoryCapacity: gi,
        cpuCFSQuotaPeriodUs: 50_000,
      }),
    ).toMatchObject({ cpuPeriod: 50_000, cpuQuota: 25_000 });
    // Neither sent: unset, which proto3 encodes as 0.
    const off = linuxContainerResources(limited, container(limited), {
      memoryCapacity: gi,
      cpuCFSQuota: false,
    });
    expect([off.cpuPeriod ?? 0, off.cpuQuota ?? 0]).toEqual([0, 0]);
    const huge = pod({ requests: { cpu: '300' } });
    expect(linuxContainerResources(huge, container(huge), { memoryCapacity: gi }).cpuShares).toBe(262_144);
  });
});
