import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import {
  type ContainerMemoryQoS,
  containerMemoryQoSUnified,
  memoryHighBytes,
} from '../src/cri/container-memory-qos';
import { linuxContainerResources } from '../src/cri/linux-resources';
import type { KubeletOptions } from '../src/kubelet-options';
import { memoryQoSSettings } from '../src/kubelet-part-options';
import { NodeFacts } from '../src/sync/node-facts';

const mi = 1024 ** 2;
// Upstream's fake runtime manager: node allocatable memory 32Gi (fakeNodeAllocatableMemory).
const allocatable32Gi = 32 * 1024 ** 3;

function pod(resources: Container['resources']): Pod {
  return {
    metadata: { name: 'bar', namespace: 'new', uid: '12345678' },
    spec: { containers: [{ name: 'foo', image: 'busybox', resources }] },
  } as Pod;
}
const container = (p: Pod) => p.spec.containers[0]!;
const qos = (over: Partial<ContainerMemoryQoS> = {}): ContainerMemoryQoS => ({
  throttlingFactor: 0.9,
  reservationPolicy: 'TieredReservation',
  allocatableMemory: () => allocatable32Gi,
  ...over,
});
const unifiedOf = (p: Pod, q = qos()) => containerMemoryQoSUnified(p, container(p), q);

// Upstream TestGenerateContainerConfigWithMemoryQoSEnforced: a 128Mi request with a 256Mi limit,
// and a 128Mi request without limit (node allocatable 32Gi), factor 0.9, 4 KiB pages.
const request128Limit256 = pod({ requests: { memory: '128Mi' }, limits: { memory: '256Mi' } });
const request128NoLimit = pod({ requests: { memory: '128Mi' } });

describe('memory.high (KEP-2570 formula, upstream v1.36 generateLinuxContainerResources)', () => {
  it("is request + factor × (limit − request), rounded down to whole pages: upstream's Request128MBLimit256MB", () => {
    // floor((134217728 + 0.9 × 134217728) / 4096) × 4096
    expect(unifiedOf(request128Limit256)['memory.high']).toBe('255012864');
    expect(memoryHighBytes(128 * mi, 256 * mi, 0.9)).toBe(255_012_864);
  });

  it("takes node allocatable in place of a missing limit: upstream's Request128MBWithoutLimit", () => {
    // floor((134217728 + 0.9 × (34359738368 − 134217728)) / 4096) × 4096
    expect(unifiedOf(request128NoLimit)['memory.high']).toBe('30937186304');
  });

  it('rounds to the page size given (64 KiB pages round further down)', () => {
    expect(unifiedOf(request128Limit256, qos({ pageSize: 65536 }))['memory.high']).toBe('255000576');
  });

  it('follows memoryThrottlingFactor (1.0: the limit itself)', () => {
    expect(unifiedOf(request128Limit256, qos({ throttlingFactor: 1 }))['memory.high']).toBe(String(256 * mi));
  });

  it('is not set when request equals limit (Guaranteed), nor in v1.36 for BestEffort (0 = 0, upstream #137685)', () => {
    const guaranteed = pod({
      requests: { memory: '128Mi', cpu: '1' },
      limits: { memory: '128Mi', cpu: '1' },
    });
    expect(unifiedOf(guaranteed)['memory.high']).toBeUndefined();
    expect(unifiedOf(pod(undefined))['memory.high']).toBeUndefined();
  });

  it('is not set without a limit while node allocatable is unknown or 0', () => {
    expect(
      unifiedOf(request128NoLimit, qos({ allocatableMemory: () => undefined }))['memory.high'],
    ).toBeUndefined();
    expect(unifiedOf(request128NoLimit, qos({ allocatableMemory: () => 0 }))['memory.high']).toBeUndefined();
  });

  it('is not set when it would not lie above the request (a limit below one page over it)', () => {
    // request 1 MiB, limit 1 MiB + 1 KiB: the formula rounds back down to the request.
    const tight = pod({ requests: { memory: String(mi) }, limits: { memory: String(mi + 1024) } });
    expect(unifiedOf(tight)['memory.high']).toBeUndefined();
  });

  it('uses a memory limit alone (no request) against 0', () => {
    const limitOnly = pod({ limits: { memory: '256Mi' }, requests: { cpu: '100m' } });
    // floor(0.9 × 268435456 / 4096) × 4096
    expect(unifiedOf(limitOnly)['memory.high']).toBe('241590272');
  });
});

describe('memory.min / memory.low (memoryReservationPolicy, v1.36)', () => {
  it('TieredReservation: a Guaranteed container gets memory.min, a Burstable one memory.low, its request', () => {
    const guaranteed = pod({
      requests: { memory: '128Mi', cpu: '1' },
      limits: { memory: '128Mi', cpu: '1' },
    });
    expect(unifiedOf(guaranteed)).toEqual({ 'memory.min': String(128 * mi) });
    expect(unifiedOf(request128Limit256)).toEqual({
      'memory.low': String(128 * mi),
      'memory.high': '255012864',
    });
  });

  it('None (the default): protection reset to 0, memory.high still set', () => {
    expect(unifiedOf(request128Limit256, qos({ reservationPolicy: 'None' }))).toEqual({
      'memory.min': '0',
      'memory.low': '0',
      'memory.high': '255012864',
    });
  });
});

describe('linuxContainerResources with MemoryQoS', () => {
  it('merges the MemoryQoS files into unified beside the swap setting', () => {
    const resources = linuxContainerResources(request128Limit256, container(request128Limit256), {
      memoryCapacity: 64 * 1024 ** 3,
      swap: {
        behavior: 'NoSwap',
        cgroupVersion: 2,
        swapControllerAvailable: true,
        memoryCapacity: 64 * 1024 ** 3,
        swapCapacity: 0,
      },
      memoryQoS: qos(),
    });
    expect(resources.unified).toEqual({
      'memory.swap.max': '0',
      'memory.low': String(128 * mi),
      'memory.high': '255012864',
    });
    expect(resources.memoryLimitInBytes).toBe(256 * mi);
  });

  it('sets no MemoryQoS file without the settings (gate off or cgroup v1)', () => {
    const resources = linuxContainerResources(request128Limit256, container(request128Limit256), {
      memoryCapacity: 64 * 1024 ** 3,
    });
    expect(resources.unified).toBeUndefined();
  });
});

describe('memoryQoSSettings: enforced as upstream (gate on and cgroup v2)', () => {
  const options = (featureGates: Record<string, boolean>, cgroupVersion: 1 | 2, extra: object = {}) =>
    ({
      node: { swap: { cgroupVersion, swapControllerAvailable: false, swapCapacity: 0 } },
      config: parseKubeletConfiguration({ featureGates, ...extra }).config,
    }) as unknown as KubeletOptions;

  it('is off by default (MemoryQoS is alpha, off in v1.36) and on cgroup v1 even with the gate', () => {
    expect(memoryQoSSettings(options({}, 2), new NodeFacts())).toBeUndefined();
    expect(memoryQoSSettings(options({ MemoryQoS: true }, 1), new NodeFacts())).toBeUndefined();
  });

  it('with the gate (or AllAlpha) on cgroup v2: the configured factor and policy, allocatable read at each use', () => {
    const node = new NodeFacts();
    const settings = memoryQoSSettings(
      options({ MemoryQoS: true }, 2, {
        memoryThrottlingFactor: 0.8,
        memoryReservationPolicy: 'TieredReservation',
      }),
      node,
    );
    expect(settings).toMatchObject({ throttlingFactor: 0.8, reservationPolicy: 'TieredReservation' });
    expect(settings?.allocatableMemory()).toBeUndefined();
    node.allocatable = { memory: '32Gi' };
    expect(settings?.allocatableMemory()).toBe(allocatable32Gi);
    expect(memoryQoSSettings(options({ AllAlpha: true }, 2), node)).toMatchObject({
      throttlingFactor: 0.9,
      reservationPolicy: 'None',
    });
  });

  it('reads "" (the Go zero value) as None, as upstream defaults it', () => {
    expect(parseKubeletConfiguration({ memoryReservationPolicy: '' }).config.memoryReservationPolicy).toBe(
      'None',
    );
  });

  it('refuses a memoryReservationPolicy other than None or TieredReservation', () => {
    expect(() => parseKubeletConfiguration({ memoryReservationPolicy: 'HardReservation' })).toThrow(
      /memoryReservationPolicy/,
    );
  });
});
