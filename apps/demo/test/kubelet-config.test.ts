import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { demoKubeletConfiguration, renderKubeletConfiguration } from '../src/kubelet-config';

describe('the KubeletConfiguration the demo writes', () => {
  it('runs alongside swap and passes upstream validation without the QoS cgroups', () => {
    const text = renderKubeletConfiguration(
      demoKubeletConfiguration({
        podLogsDir: '/tmp/state/pod-logs',
        volumePluginDir: '/tmp/state/volume-plugins',
        ownNetns: true,
      }),
    );
    const config = parse(text) as Record<string, unknown>;
    expect(config).toMatchObject({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      podLogsDir: '/tmp/state/pod-logs',
      volumePluginDir: '/tmp/state/volume-plugins',
      failSwapOn: false,
      // Upstream v1.35+ refuses cgroup v1 hosts unless failCgroupV1 is false.
      failCgroupV1: false,
      cgroupsPerQOS: false,
    });
    // Upstream refuses a non-empty enforceNodeAllocatable (default ["pods"]) without cgroupsPerQOS;
    // the list must be present and empty, not left out to be defaulted.
    expect(config.enforceNodeAllocatable).toEqual([]);
    // In its own namespace the kubelet keeps its server and healthz port, open to the API
    // server's unauthenticated proxy requests (kubectl logs/exec).
    expect(config).not.toHaveProperty('enableServer');
    expect(config).not.toHaveProperty('healthzPort');
    // Its own namespace's iptables get upstream's chains (deleted with the namespace).
    expect(config).not.toHaveProperty('makeIPTablesUtilChains');
    expect(config).toMatchObject({
      authentication: { anonymous: { enabled: true } },
      authorization: { mode: 'AlwaysAllow' },
    });
  });

  it('on the host network leaves the host ports alone', () => {
    const config = demoKubeletConfiguration({ podLogsDir: '/x', volumePluginDir: '/y', ownNetns: false });
    expect(config).toMatchObject({
      enableServer: false,
      healthzPort: 0,
      makeIPTablesUtilChains: false,
      failSwapOn: false,
      failCgroupV1: false,
    });
    expect(config).not.toHaveProperty('authorization');
  });
});
