import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../src/errors/index';
import { resolveNodeStatusConfig } from '../src/index';
import {
  ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH,
  buildNodeStatus,
  initialNode,
  nodeAddresses,
  reconcileExistingNode,
  statusFingerprint,
  topImages,
} from '../src/node-object/index';

const config = resolveNodeStatusConfig({
  nodeName: 'node-a',
  nodeLabels: { team: 'x' },
  registerWithTaints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
  registerSchedulable: false,
});

describe('node config and objects', () => {
  it('fills in upstream defaults', () => {
    const c = resolveNodeStatusConfig({ nodeName: 'n1' });
    expect(c).toMatchObject({
      hostname: 'n1',
      maxPods: 110,
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeStatusReportFrequencyMs: 300_000,
      nodeLeaseDurationSeconds: 40,
      leaseRenewIntervalMs: 10_000,
      nodeStatusMaxImages: 50,
      port: 10250,
      registerSchedulable: true,
    });
    expect(c.evictionHard['memory.available']).toBe('100Mi');
  });

  it('rejects bad config with typed errors', () => {
    expect(() => resolveNodeStatusConfig({ nodeName: 'Bad_Name' })).toThrow(InvalidConfigError);
    expect(() => resolveNodeStatusConfig({ nodeName: 'n', nodeLeaseDurationSeconds: 0 })).toThrow(
      /nodeLeaseDurationSeconds/,
    );
    expect(() => resolveNodeStatusConfig({ nodeName: 'n', nodeStatusUpdateFrequency: 'soon' })).toThrow(
      /nodeStatusUpdateFrequency/,
    );
  });

  it('builds the registration Node with labels, taints and unschedulable', () => {
    const node = initialNode(config, 'linux', 'amd64');
    expect(node.metadata?.labels).toEqual({
      team: 'x',
      'kubernetes.io/hostname': 'node-a',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    });
    expect(node.spec).toEqual({
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
      unschedulable: true,
    });
    expect(node.metadata?.annotations?.[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH]).toBe('true');
  });

  it('registers the Node with spec.providerID when providerID is set, and without it otherwise', () => {
    const withId = resolveNodeStatusConfig({ nodeName: 'node-b', providerID: 'external://node-b' });
    expect(initialNode(withId, 'linux', 'amd64').spec?.providerID).toBe('external://node-b');
    expect(initialNode(config, 'linux', 'amd64').spec).not.toHaveProperty('providerID', expect.anything());
  });

  it('reconciles only the kubelet-owned labels and annotation of an existing Node', () => {
    const existing = {
      metadata: {
        name: 'node-a',
        labels: { 'kubernetes.io/hostname': 'old', 'kubernetes.io/os': 'linux', custom: 'keep' },
      },
    };
    expect(reconcileExistingNode(existing, config, 'linux', 'amd64')).toEqual({
      metadata: {
        labels: {
          'kubernetes.io/hostname': 'node-a',
          'kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'beta.kubernetes.io/arch': 'amd64',
        },
        annotations: { [ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH]: 'true' },
      },
    });
    const fresh = initialNode(config, 'linux', 'amd64');
    expect(reconcileExistingNode(fresh, config, 'linux', 'amd64')).toBeUndefined();
  });

  it('reports the configured node IP or the first non-loopback address, plus Hostname', () => {
    expect(nodeAddresses(['10.1.2.3'], 'h')).toEqual([
      { type: 'InternalIP', address: '10.1.2.3' },
      { type: 'Hostname', address: 'h' },
    ]);
    const ifaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: '192.168.1.5', family: 'IPv4', internal: false },
      ],
    } as unknown as Parameters<typeof nodeAddresses>[2];
    expect(nodeAddresses([], 'h', ifaces)[0]).toEqual({ type: 'InternalIP', address: '192.168.1.5' });
  });

  it('keeps the largest images first, five names each', () => {
    const images = [
      { names: ['small'], sizeBytes: 1 },
      { names: ['a', 'b', 'c', 'd', 'e', 'f'], sizeBytes: 100 },
      { names: ['mid'], sizeBytes: 50 },
    ];
    expect(topImages(images, 2)).toEqual([
      { names: ['a', 'b', 'c', 'd', 'e'], sizeBytes: 100 },
      { names: ['mid'], sizeBytes: 50 },
    ]);
    expect(topImages(images, -1)).toHaveLength(3);
  });

  it('ignores heartbeat times when fingerprinting status', () => {
    const machine = {
      numCores: 1,
      memoryCapacityBytes: 1,
      ephemeralStorageBytes: 1,
      machineID: 'm',
      systemUUID: 'u',
      bootID: 'b',
      kernelVersion: 'k',
      osImage: 'o',
      operatingSystem: 'linux',
      architecture: 'amd64',
      hostname: 'h',
      hugePages: [],
    };
    const make = (hb: number, status: string) =>
      buildNodeStatus({
        capacity: {},
        allocatable: {},
        conditions: [
          { type: 'Ready', status, lastHeartbeatTime: new Date(hb), lastTransitionTime: new Date(0) },
        ],
        addresses: [],
        machine,
        runtime: { runtimeName: 'containerd', runtimeVersion: '1.7.24' },
        images: [],
        maxImages: 50,
        kubeletPort: 10250,
        kubeletVersion: 'v1.36.3',
      });
    const a = make(1_000, 'True');
    expect(a.nodeInfo.containerRuntimeVersion).toBe('containerd://1.7.24');
    expect(a.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(a.conditions[0]?.lastHeartbeatTime).toBe('1970-01-01T00:00:01Z');
    expect(statusFingerprint(a)).toBe(statusFingerprint(make(9_000, 'True')));
    expect(statusFingerprint(a)).not.toBe(statusFingerprint(make(1_000, 'False')));
  });
});
