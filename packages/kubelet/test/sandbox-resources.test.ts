import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { buildSandboxConfig } from '../src/cri/sandbox-config';
import { type SandboxResourceOptions, sandboxOverhead, sandboxResources } from '../src/cri/sandbox-resources';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

// Upstream v1.36 applySandboxResources (kuberuntime_sandbox_linux.go): PodSandboxConfig.linux.resources is
// calculateLinuxResources over PodRequests/PodLimits without overhead, .linux.overhead over spec.overhead with
// requests == limits. The first four cases are TestApplySandboxResources' (cpuCFSQuota true, default period;
// cgroup v1 and v2 with singleProcessOOMKill unset).

function pod(spec: Partial<Pod['spec']>): Pod {
  return {
    metadata: { name: 'bar', namespace: 'new', uid: '12345678' },
    spec: { containers: [{ name: 'foo', image: 'busybox' }], ...spec },
  };
}
const withResources = (resources: Container['resources'], name = 'foo'): Container => ({
  name,
  image: 'busybox',
  resources,
});
const mi = 1024 ** 2;

const podWithOverhead = () =>
  pod({
    containers: [
      withResources({ requests: { memory: '128Mi', cpu: '2' }, limits: { memory: '256Mi', cpu: '4' } }),
    ],
    overhead: { memory: '128Mi', cpu: '1' },
  });
const podWithoutOverhead = () =>
  pod({ containers: [withResources({ requests: { memory: '128Mi' }, limits: { memory: '256Mi' } })] });

const v1: SandboxResourceOptions = { cpuCFSQuota: true };
const v2: SandboxResourceOptions = { cpuCFSQuota: true, oomGroupKill: true };
const oomGroup = { unified: { 'memory.oom.group': '1' } };

describe('sandbox resources (upstream TestApplySandboxResources)', () => {
  it('pod with overhead, cgroup v1: the containers without overhead, and the overhead as guaranteed', () => {
    expect(sandboxResources(podWithOverhead(), v1)).toEqual({
      memoryLimitInBytes: 268435456,
      cpuPeriod: 100000,
      cpuQuota: 400000,
      cpuShares: 2048,
    });
    expect(sandboxOverhead(podWithOverhead(), v1)).toEqual({
      memoryLimitInBytes: 134217728,
      cpuPeriod: 100000,
      cpuQuota: 100000,
      cpuShares: 1024,
    });
  });

  it('pod without overhead, cgroup v1: no CPU at all gives the minimum shares and a period; overhead empty', () => {
    expect(sandboxResources(podWithoutOverhead(), v1)).toEqual({
      memoryLimitInBytes: 268435456,
      cpuPeriod: 100000,
      cpuQuota: 0,
      cpuShares: 2,
    });
    expect(sandboxOverhead(podWithoutOverhead(), v1)).toEqual({});
  });

  it('cgroup v2 without singleProcessOOMKill: memory.oom.group=1 on both entries, not on an empty overhead', () => {
    expect(sandboxResources(podWithOverhead(), v2)).toEqual({
      memoryLimitInBytes: 268435456,
      cpuPeriod: 100000,
      cpuQuota: 400000,
      cpuShares: 2048,
      ...oomGroup,
    });
    expect(sandboxOverhead(podWithOverhead(), v2)).toEqual({
      memoryLimitInBytes: 134217728,
      cpuPeriod: 100000,
      cpuQuota: 100000,
      cpuShares: 1024,
      ...oomGroup,
    });
    expect(sandboxResources(podWithoutOverhead(), v2)).toEqual({
      memoryLimitInBytes: 268435456,
      cpuPeriod: 100000,
      cpuQuota: 0,
      cpuShares: 2,
      ...oomGroup,
    });
    expect(sandboxOverhead(podWithoutOverhead(), v2)).toEqual({});
  });
});

describe('sandbox resources (calculateLinuxResources details)', () => {
  it('a missing CPU request takes its shares from the limit; a zero one gets the minimum', () => {
    // Only a pod-level limit: PodRequests has no cpu entry (cpuRequest nil), so shares follow the 1-CPU limit.
    const limitOnly = pod({ resources: { limits: { cpu: '1' } } });
    expect(sandboxResources(limitOnly, v1)).toMatchObject({ cpuShares: 1024, cpuQuota: 100000 });
    // A request present but zero stays zero: 2 shares, whatever the limit.
    const zero = pod({ containers: [withResources({ requests: { cpu: '0' }, limits: { cpu: '2' } })] });
    expect(sandboxResources(zero, v1)).toMatchObject({ cpuShares: 2, cpuQuota: 200000 });
    // A container's limit alone counts as its request (the API server's defaulting).
    const containerLimit = pod({ containers: [withResources({ limits: { cpu: '500m' } })] });
    expect(sandboxResources(containerLimit, v1)).toMatchObject({ cpuShares: 512, cpuQuota: 50000 });
  });

  it('no memory limit leaves memoryLimitInBytes 0 (unset)', () => {
    const noLimit = pod({ containers: [withResources({ requests: { memory: '64Mi' } })] });
    expect(sandboxResources(noLimit, v1).memoryLimitInBytes).toBe(0);
  });

  it('cpuCFSQuota false sends neither period nor quota; a custom period scales the quota', () => {
    const off = sandboxResources(podWithOverhead(), { cpuCFSQuota: false });
    expect(off).toEqual({ memoryLimitInBytes: 268435456, cpuShares: 2048 });
    expect(sandboxOverhead(podWithOverhead(), { cpuCFSQuota: false })).toEqual({
      memoryLimitInBytes: 134217728,
      cpuShares: 1024,
    });
    expect(sandboxResources(podWithOverhead(), { cpuCFSQuotaPeriodUs: 50_000 })).toMatchObject({
      cpuPeriod: 50_000,
      cpuQuota: 200_000,
    });
  });

  it('aggregates init containers and sidecars as the scheduler does', () => {
    // A sidecar (0.5/1 CPU, 64Mi) starts before a regular init container (3/3 CPU, 256Mi), which runs beside it:
    // requests max(0.5 + 1, 0.5 + 3) = 3.5 CPU; limits max(1 + 2, 1 + 3) = 4 CPU; memory max(64 + 128, 64 + 256) Mi.
    const p = pod({
      initContainers: [
        {
          ...withResources({ requests: { cpu: '500m' }, limits: { cpu: '1', memory: '64Mi' } }, 'sidecar'),
          restartPolicy: 'Always',
        },
        withResources({ requests: { cpu: '3' }, limits: { cpu: '3', memory: '256Mi' } }, 'init'),
      ],
      containers: [withResources({ requests: { cpu: '1' }, limits: { cpu: '2', memory: '128Mi' } })],
    });
    expect(sandboxResources(p, v1)).toEqual({
      cpuShares: 3584,
      cpuPeriod: 100000,
      cpuQuota: 400000,
      memoryLimitInBytes: 320 * mi,
    });
  });

  it('uses pod-level resources where set (the fixture pod-resources: 200m/64Mi requests, 400m/128Mi limits)', () => {
    const p = pod({
      resources: { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '400m', memory: '128Mi' } },
      containers: [
        { name: 'a', image: 'busybox' },
        withResources({ requests: { cpu: '50m', memory: '16Mi' } }, 'b'),
      ],
      overhead: { cpu: '100m', memory: '32Mi' },
    });
    expect(sandboxResources(p, v1)).toEqual({
      cpuShares: 204,
      cpuPeriod: 100000,
      cpuQuota: 40000,
      memoryLimitInBytes: 128 * mi,
    });
  });

  it('an overhead with memory only: the minimum shares, no quota', () => {
    const p = pod({ overhead: { memory: '10Mi' } });
    expect(sandboxOverhead(p, v1)).toEqual({
      cpuShares: 2,
      cpuPeriod: 100000,
      cpuQuota: 0,
      memoryLimitInBytes: 10 * mi,
    });
  });

  it('buildSandboxConfig sends both in linux', () => {
    const config = buildSandboxConfig(podWithOverhead(), {
      clusterDNS: [],
      clusterDomain: 'cluster.local',
      attempt: 0,
      ...v2,
    });
    expect(config.linux.resources).toEqual(sandboxResources(podWithOverhead(), v2));
    expect(config.linux.overhead).toMatchObject({ cpuShares: 1024, ...oomGroup });
  });
});

describe('sandbox resources from the kubelet configuration', () => {
  let h: EngineHarness | undefined;
  // The configuration replaces the engine's: its pod log directory is this run's own.
  const podLogsDir = join(tmpdir(), `na-sandbox-resources-${process.pid}`);
  const config = (fields: Record<string, unknown>) =>
    parseKubeletConfiguration({ podLogsDir, ...fields }).config;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await rm(podLogsDir, { recursive: true, force: true });
  });

  it('the syncer passes cpuCFSQuota, cpuCFSQuotaPeriod and the cgroup v2 OOM group kill', async () => {
    h = await startEngine({
      config: config({ cpuCFSQuotaPeriod: '50ms', featureGates: { CustomCPUCFSQuotaPeriod: true } }),
      node: { swap: { cgroupVersion: 2, swapControllerAvailable: false, swapCapacity: 0 } },
    });
    const p = testPod({ containers: [withResources({ limits: { cpu: '1', memory: '64Mi' } }, 'app')] });
    expect(h.kubelet.syncer.sandboxConfig(p, 0).linux.resources).toEqual({
      cpuShares: 1024,
      cpuPeriod: 50_000,
      cpuQuota: 50_000,
      memoryLimitInBytes: 64 * mi,
      ...oomGroup,
    });
  });

  it('cpuCFSQuota: false reaches the sandbox', async () => {
    h = await startEngine({ config: config({ cpuCFSQuota: false }) });
    const p = testPod({ containers: [withResources({ limits: { cpu: '1' } }, 'app')] });
    expect(h.kubelet.syncer.sandboxConfig(p, 0).linux.resources).toEqual({
      cpuShares: 1024,
      memoryLimitInBytes: 0,
    });
  });
});
