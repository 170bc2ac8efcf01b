import { describe, expect, it } from 'vitest';
import type { EnvVar, Pod, VolumeMount } from '../../src/api/pod-types';
import { type NodeHarness, runningPod, useNodeHarness } from './node-harness';

/**
 * Conformance "Variable Expansion" subPathExpr tests (test/e2e/common/node/expansion.go), with
 * their pod specs, on a real containerd through the in-process API server.
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

let count = 0;
function expansionPod(
  command: string[] | undefined,
  env: EnvVar[],
  volumeMounts: VolumeMount[],
  annotations?: Record<string, string>,
) {
  const name = `var-expansion-${++count}`;
  return {
    metadata: { name, labels: { name }, annotations },
    spec: {
      restartPolicy: 'Never' as const,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'dapi-container', image: node.busybox, command, env, volumeMounts }],
      volumes: [{ name: 'workdir1', emptyDir: {} }],
    },
  };
}

const waiting = (pod: Pod) => pod.status?.containerStatuses?.[0]?.state.waiting;
const annotationEnv: EnvVar[] = [
  { name: 'POD_NAME', value: 'foo' },
  {
    name: 'ANNOTATION',
    valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['mysubpath']" } },
  },
];
const subpathMounts: VolumeMount[] = [
  { name: 'workdir1', mountPath: '/subpath_mount', subPathExpr: '$(ANNOTATION)/$(POD_NAME)' },
  { name: 'workdir1', mountPath: '/volume_mount' },
];

describe('subPathExpr on a real containerd', { timeout: 120_000 }, () => {
  it('should allow substituting values in a volume subpath', async () => {
    const spec = expansionPod(
      [],
      [{ name: 'POD_NAME', value: '' }],
      [
        { name: 'workdir1', mountPath: '/logscontainer', subPathExpr: '$(POD_NAME)' },
        { name: 'workdir1', mountPath: '/testcontainer' },
      ],
    );
    const name = spec.metadata.name;
    spec.spec.containers[0]!.env[0]!.value = name;
    spec.spec.containers[0]!.command = ['sh', '-c', `test -d /testcontainer/${name};echo $?`];
    node.createPod(spec);
    await node.waitPod(name, 'Succeeded', (pod) => (pod.status?.phase === 'Succeeded' ? pod : undefined));
    const logs = await node.kubectl(['logs', name, '-c', 'dapi-container']);
    expect(logs).toMatchObject({ code: 0, stdout: '0\n' });
  });

  for (const [what, value, message] of [
    ['an absolute path', '/tmp', 'error SubPath `/tmp` must not be an absolute path'],
    ['backticks', '..', "unable to provision SubPath `..`: must not contain '..'"],
  ] as const) {
    it(`should fail substituting values in a volume subpath with ${what}`, async () => {
      const spec = expansionPod(
        undefined,
        [{ name: 'POD_NAME', value }],
        [{ name: 'workdir1', mountPath: '/logscontainer', subPathExpr: '$(POD_NAME)' }],
      );
      node.createPod(spec);
      const state = await node.waitPod(spec.metadata.name, 'CreateContainerConfigError', (pod) =>
        waiting(pod)?.reason === 'CreateContainerConfigError' ? waiting(pod) : undefined,
      );
      expect(state?.message).toBe(message);
      expect(node.getPod(spec.metadata.name)?.status?.phase).toBe('Pending');
    });
  }

  it('should succeed in writing subpaths in container', async () => {
    const spec = expansionPod(['sh', '-c', 'tail -f /dev/null'], annotationEnv, subpathMounts, {
      mysubpath: 'mypath',
    });
    const name = spec.metadata.name;
    node.createPod(spec);
    const running = await node.waitPod(name, 'Running', runningPod);
    await node.exec(name, 'dapi-container', ['sh', '-c', 'touch /volume_mount/mypath/foo/test.log']);
    expect(
      await node.exec(name, 'dapi-container', ['sh', '-c', 'test -f /subpath_mount/test.log && echo found']),
    ).toBe('found\n');
    // The annotation changes; the running container is left as it is.
    node.patchPod(name, { metadata: { annotations: { mysubpath: 'mynewpath' } } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await node.waitPod(name, 'still Running', runningPod);
    expect(after.status?.containerStatuses?.[0]?.containerID).toBe(
      running.status?.containerStatuses?.[0]?.containerID,
    );
    node.deletePod(name);
    await expectGone(name);
  });

  it('should verify that a failing subpath expansion can be modified during the lifecycle of a container', async () => {
    const spec = expansionPod(['sh', '-c', 'tail -f /dev/null'], annotationEnv, subpathMounts, {
      notmysubpath: 'mypath',
    });
    const name = spec.metadata.name;
    node.createPod(spec);
    const state = await node.waitPod(name, 'CreateContainerConfigError', (pod) =>
      waiting(pod)?.reason === 'CreateContainerConfigError' ? waiting(pod) : undefined,
    );
    expect(state?.message).toBe('missing value for ANNOTATION');
    node.patchPod(name, { metadata: { annotations: { mysubpath: 'mypath' } } });
    await node.waitPod(name, 'Running after the update', runningPod);
    node.deletePod(name);
    await expectGone(name);
  });
});

async function expectGone(name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (node.getPod(name) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 150));
  expect(node.getPod(name)).toBeUndefined();
}
