import { describe, expect, it } from 'vitest';
import { podRequestForEviction, podRequests, podResourceLimit } from '../src/api/pod-requests';
import { podResourceConfig } from '../src/cgroups/pod-resource-config';
import { podRequest } from '../src/eviction/pod-usage';
import { makePod } from './helpers/fixtures';

const Mi = 1024 ** 2;

/** A sidecar (256Mi), then a regular init container (512Mi) that runs beside it, then the app (128Mi). */
const sidecarThenInit = () =>
  makePod({
    initContainers: [
      { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { memory: '256Mi' } } },
      { name: 'migrate', resources: { requests: { memory: '512Mi' } } },
    ],
    containers: [{ name: 'app', resources: { requests: { memory: '128Mi' } } }],
    overhead: { memory: '10Mi' },
  });

describe('one PodRequests / PodLimits for admission, cgroups and eviction (upstream component-helpers/resource)', () => {
  it('sizes a regular init container with the sidecars started before it, plus the overhead', () => {
    // max(256 + 128, 256 + 512) + 10: the init step needs its sidecar's memory too.
    expect(podRequests(sidecarThenInit()).memoryBytes).toBe(778 * Mi);
  });

  it('ranks eviction by the same request (GetResourceRequestQuantity), overhead only on a non-zero request', () => {
    expect(podRequest(sidecarThenInit(), 'memory')).toBe(778 * Mi);
    const noRequest = makePod({ containers: [{ name: 'app' }], overhead: { memory: '10Mi' } });
    expect(podRequestForEviction(noRequest, 'memory')).toBe(0);
    expect(podRequests(noRequest).memoryBytes).toBe(10 * Mi);
    // A limit without a request counts as the request, as the API server's defaulting makes it.
    const limitOnly = makePod({
      containers: [{ name: 'app', resources: { limits: { 'ephemeral-storage': '1Gi' } } }],
    });
    expect(podRequest(limitOnly, 'ephemeral-storage')).toBe(1024 * Mi);
  });

  it('counts only the pod-level request in eviction when the pod sets pod-level resources', () => {
    const podLevel = makePod({
      containers: [{ name: 'app', resources: { requests: { memory: '64Mi', 'ephemeral-storage': '1Gi' } } }],
      resources: { requests: { memory: '100Mi' } },
    });
    expect(podRequest(podLevel, 'memory')).toBe(100 * Mi);
    expect(podRequest(podLevel, 'ephemeral-storage')).toBe(0);
  });

  it('gives the pod cgroup the overhead on shares, quota and memory limit (ResourceConfigForPod)', () => {
    const withOverhead = makePod({
      containers: [{ name: 'app', resources: { limits: { cpu: '1', memory: '128Mi' } } }],
      overhead: { cpu: '250m', memory: '64Mi' },
    });
    expect(podResourceConfig(withOverhead)).toEqual({
      cpuShares: 1280,
      cpuPeriodUs: 100_000,
      cpuQuotaUs: 125_000,
      memoryLimitBytes: 192 * Mi,
    });
  });

  it('declares a limit for an init step when a sidecar before it has one, as ContainerFn sees the sum', () => {
    const pod = makePod({
      initContainers: [
        { name: 'sidecar', restartPolicy: 'Always', resources: { limits: { memory: '64Mi' } } },
        { name: 'init' },
      ],
      containers: [{ name: 'app', resources: { limits: { memory: '32Mi' } } }],
    });
    expect(podResourceLimit(pod, 'memory')).toEqual({ value: 96 * Mi, declared: true });
    const without = makePod({
      initContainers: [{ name: 'init' }],
      containers: [{ name: 'app', resources: { limits: { memory: '32Mi' } } }],
    });
    expect(podResourceLimit(without, 'memory').declared).toBe(false);
  });
});
