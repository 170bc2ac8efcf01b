import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors';
import { demoKubeletConfiguration } from '../src/kubelet-config';
import { parseScenarioOptions } from '../src/scenarios/scenario-options';
import { scenarioReplicaSet } from '../src/scenarios/scenario-workload';

const box = { nodes: 3, fakeRuntime: false };

describe('scenario options', () => {
  it('defaults to upstream v1.34 timings and no scenario', () => {
    expect(parseScenarioOptions({}, { nodes: 1, fakeRuntime: true })).toEqual({
      scenario: undefined,
      tolerationSeconds: 300,
      nodeMonitorGracePeriodSeconds: 50,
      nodeMonitorPeriodSeconds: 5,
      nodeLeaseDurationSeconds: 40,
    });
  });

  it('takes the scenario and shortened timings', () => {
    expect(
      parseScenarioOptions(
        {
          scenario: 'kubelet-missing',
          'toleration-seconds': '4',
          'node-monitor-grace-period': '8',
          'node-monitor-period': '1',
          'node-lease-duration': '8',
        },
        box,
      ),
    ).toEqual({
      scenario: 'kubelet-missing',
      tolerationSeconds: 4,
      nodeMonitorGracePeriodSeconds: 8,
      nodeMonitorPeriodSeconds: 1,
      nodeLeaseDurationSeconds: 8,
    });
  });

  it('refuses what cannot work, naming the flag and value', () => {
    const refuse = (values: Record<string, string>, context = box) => {
      try {
        parseScenarioOptions(values, context);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ scenario: 'disk-full' })).toBe(
      '--scenario: "disk-full" must be kubelet-missing or kube-proxy-missing',
    );
    expect(refuse({ scenario: 'kubelet-missing' }, { nodes: 1, fakeRuntime: false })).toMatch(
      /^--scenario: .*needs --nodes 2/,
    );
    expect(refuse({ scenario: 'kube-proxy-missing' }, { nodes: 2, fakeRuntime: true })).toMatch(
      /needs containerd/,
    );
    expect(refuse({ 'toleration-seconds': '0' })).toBe('--toleration-seconds: "0" is not a positive integer');
    // Renewing every 10 s (lease 40 s) with a 10 s grace period would flap healthy nodes.
    expect(refuse({ 'node-monitor-grace-period': '10' })).toMatch(
      /^--node-monitor-grace-period: 10 must be longer/,
    );
    expect(
      parseScenarioOptions({ 'node-monitor-grace-period': '11' }, box).nodeMonitorGracePeriodSeconds,
    ).toBe(11);
  });
});

describe('scenario ReplicaSet', () => {
  it('copies the web pod without its node and tolerates the node taints for the given seconds', () => {
    const rs = scenarioReplicaSet(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-1' },
        spec: { nodeName: 'n1', containers: [{ name: 'httpd', image: 'busybox' }] },
      },
      6,
      4,
    ) as unknown as { spec: { replicas: number; template: { spec: Record<string, unknown> } } };
    expect(rs.spec.replicas).toBe(6);
    // A small request, so the scheduler's least-allocated score spreads the pods.
    expect(rs.spec.template.spec.containers).toEqual([
      { name: 'httpd', image: 'busybox', resources: { requests: { cpu: '10m', memory: '16Mi' } } },
    ]);
    expect(rs.spec.template.spec.nodeName).toBeUndefined();
    expect(rs.spec.template.spec.tolerations).toEqual([
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 4,
      },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 4 },
    ]);
  });
});

describe('kubelet lease for the scenarios', () => {
  it('writes nodeLeaseDurationSeconds only when it departs from upstream 40 s', () => {
    const base = { podLogsDir: '/tmp/x', volumePluginDir: '/tmp/y', ownNetns: true };
    expect(demoKubeletConfiguration({ ...base, nodeLeaseDurationSeconds: 8 }).nodeLeaseDurationSeconds).toBe(
      8,
    );
    expect(demoKubeletConfiguration({ ...base, nodeLeaseDurationSeconds: 40 })).not.toHaveProperty(
      'nodeLeaseDurationSeconds',
    );
    expect(demoKubeletConfiguration(base)).not.toHaveProperty('nodeLeaseDurationSeconds');
  });
});
