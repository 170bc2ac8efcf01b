import { describe, expect, it } from 'vitest';
import { noPodCgroupPodLevelResourcesMessage } from '../../src/admission/pod-level-resources-admit';
import type { Container, Pod } from '../../src/api/pod-types';
import { type NodeHarness, runningPod, useNodeHarness } from './node-harness';

/**
 * The v1.36 pod fields of fixture pods `hostname-override`, `env-file` and `pod-resources` (no pod cgroups here)
 * (fidelity/pods-v1.36) on a real containerd through the in-process API server, with
 * what upstream v1.36.3 made of them (fidelity/pod-status-v1.36).
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

const sleepForever = "trap 'exit 0' TERM; while true; do sleep 1; done";

/** The fixture's env-file pod, its init container writing `line` to /data/config.env. */
function envFilePod(
  name: string,
  line: string,
): { metadata: Pod['metadata']; spec: Omit<Pod['spec'], 'nodeName'> } {
  const data = { name: 'data', mountPath: '/data' };
  const main: Container = {
    name: 'c',
    image: node.busybox,
    command: ['sh', '-c', `echo GREETING=$GREETING; ${sleepForever}`],
    env: [
      {
        name: 'GREETING',
        valueFrom: {
          fileKeyRef: { volumeName: 'data', path: 'config.env', key: 'GREETING', optional: false },
        },
      },
    ],
    volumeMounts: [data],
  };
  return {
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 3,
      initContainers: [
        {
          name: 'gen',
          image: node.busybox,
          command: ['sh', '-c', `echo "${line}" > /data/config.env`],
          volumeMounts: [data],
        },
      ],
      containers: [main],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  };
}

describe('v1.36 pod API on a real containerd', { timeout: 180_000 }, () => {
  it('hostnameOverride: hostname, /etc/hostname and /etc/hosts carry the override', async () => {
    node.createPod({
      metadata: { name: 'hostname-override' },
      spec: {
        terminationGracePeriodSeconds: 3,
        hostnameOverride: 'custom-host',
        containers: [{ name: 'c', image: node.busybox, command: ['sh', '-c', sleepForever] }],
      },
    });
    const pod = await node.waitPod('hostname-override', 'Running', runningPod);
    expect((await node.exec('hostname-override', 'c', ['hostname'])).trim()).toBe('custom-host');
    expect((await node.exec('hostname-override', 'c', ['cat', '/etc/hostname'])).trim()).toBe('custom-host');
    expect(await node.exec('hostname-override', 'c', ['cat', '/etc/hosts'])).toContain(
      `${pod.status?.podIP}\tcustom-host\n`,
    );
  });

  it('pod-level spec.resources without pod cgroups (cgroupsPerQOS: false): refused naming the setting, the kubelet keeps going', async () => {
    // Upstream v1.36.3 panics on this pod with cgroupsPerQOS: false (fidelity/pod-status-v1.36/README.md).
    node.createPod({
      metadata: { name: 'pod-resources' },
      spec: {
        terminationGracePeriodSeconds: 3,
        resources: { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '400m', memory: '128Mi' } },
        containers: [{ name: 'a', image: node.busybox, command: ['sh', '-c', sleepForever] }],
      },
    });
    const status = await node.waitPod('pod-resources', 'Failed', (p) =>
      p.status?.phase === 'Failed' ? p.status : undefined,
    );
    expect(status.reason).toBe('PodLevelResourcesNotSupported');
    expect(status.message).toBe(`Pod was rejected: ${noPodCgroupPodLevelResourcesMessage}`);
    expect(status.containerStatuses ?? []).toEqual([]);
    node.createPod({
      metadata: { name: 'after-pod-resources' },
      spec: {
        terminationGracePeriodSeconds: 3,
        containers: [{ name: 'c', image: node.busybox, command: ['sh', '-c', sleepForever] }],
      },
    });
    await node.waitPod('after-pod-resources', 'Running', runningPod);
  });

  it('env fileKeyRef: the fixture\'s unquoted line is CreateContainerConfigError "couldn\'t parse env file"', async () => {
    node.createPod(envFilePod('env-file', 'GREETING=hello-from-file'));
    const waiting = await node.waitPod('env-file', 'CreateContainerConfigError', (pod) => {
      const state = pod.status?.containerStatuses?.[0]?.state.waiting;
      return state?.reason === 'CreateContainerConfigError' ? state : undefined;
    });
    expect(waiting.message).toBe("couldn't parse env file");
    const pod = node.getPod('env-file');
    expect(pod?.status?.phase).toBe('Pending');
    expect(pod?.status?.initContainerStatuses?.[0]?.state.terminated?.reason).toBe('Completed');
  });

  it('env fileKeyRef: a quoted value reaches the container environment', async () => {
    node.createPod(envFilePod('env-file-quoted', "GREETING='hello-from-file'"));
    await node.waitPod('env-file-quoted', 'Running', runningPod);
    expect(await node.exec('env-file-quoted', 'c', ['sh', '-c', 'echo "$GREETING"'])).toBe(
      'hello-from-file\n',
    );
  });
});
