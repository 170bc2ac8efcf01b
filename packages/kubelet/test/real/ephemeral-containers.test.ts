import { spawn } from 'node:child_process';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { type NodeHarness, useNodeHarness, waitFor } from './node-harness';

/**
 * Conformance "Ephemeral Containers will start an ephemeral container in an existing pod"
 * (test/e2e/common/node/ephemeral_containers.go) and `kubectl debug --target`, on a real
 * containerd through the in-process API server's pods/ephemeralcontainers subresource.
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

const ephemeralRunning = (name: string) => (pod: Pod) => {
  const status = pod.status?.ephemeralContainerStatuses?.find((c) => c.name === name);
  return status?.state.running ? status : undefined;
};

describe('ephemeral containers on a real containerd', { timeout: 120_000 }, () => {
  it('will start an ephemeral container in an existing pod', async () => {
    node.createPod({
      metadata: { name: 'ephemeral-containers-target-pod' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'test-container-1', image: node.busybox, command: ['sleep', '10000'] }],
      },
    });
    const pod = await node.waitPod('ephemeral-containers-target-pod', 'Running', (p) =>
      p.status?.phase === 'Running' ? p : undefined,
    );
    // AddEphemeralContainerSync: the pod with one more ephemeral container, PUT to the subresource.
    const updated = {
      ...pod,
      spec: {
        ...pod.spec,
        ephemeralContainers: [
          {
            name: 'debugger',
            image: node.busybox,
            command: ['/bin/sh', '-c', 'while true; do echo polo; sleep 2; done'],
            stdin: true,
            tty: true,
          },
        ],
      },
    };
    await node.core.replaceNamespacedPodEphemeralcontainers({
      name: pod.metadata.name!,
      namespace: 'default',
      body: updated as unknown as V1Pod,
    });
    const status = await node.waitPod(
      'ephemeral-containers-target-pod',
      'debugger running',
      ephemeralRunning('debugger'),
    );
    expect(status).toMatchObject({ name: 'debugger', ready: false, restartCount: 0 });
    expect(status.containerID).toMatch(/^containerd:\/\//);
    const marco = await node.kubectl([
      'exec',
      'ephemeral-containers-target-pod',
      '-c',
      'debugger',
      '--',
      '/bin/echo',
      'marco',
    ]);
    expect(marco).toMatchObject({ code: 0, stdout: 'marco\n' });
    const logs = await waitFor('polo in the logs', async () => {
      const out = await node.kubectl(['logs', 'ephemeral-containers-target-pod', '-c', 'debugger']);
      return out.stdout.includes('polo') ? out.stdout : undefined;
    });
    expect(logs).toContain('polo');
    // kubectl attach reaches the ephemeral container's output too.
    const attach = spawn(
      'kubectl',
      ['--kubeconfig', node.kubeconfig, 'attach', 'ephemeral-containers-target-pod', '-c', 'debugger'],
      { env: { ...process.env, HOME: node.dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let attached = '';
    attach.stdout.on('data', (c) => {
      attached += c;
    });
    try {
      await waitFor('polo through kubectl attach', () => (attached.includes('polo') ? true : undefined));
    } finally {
      attach.kill('SIGKILL');
    }
    // The main container kept running: adding a debug container does not restart anything.
    const after = node.getPod('ephemeral-containers-target-pod')!;
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    // Existing ephemeral containers may not be removed.
    const refused = await node.core
      .replaceNamespacedPodEphemeralcontainers({
        name: pod.metadata.name!,
        namespace: 'default',
        body: { ...after, spec: { ...after.spec, ephemeralContainers: [] } } as unknown as V1Pod,
      })
      .then(
        () => undefined,
        (error: { code?: number; body?: unknown }) => error,
      );
    expect(refused?.code).toBe(422);
    expect(String(refused?.body)).toContain(
      'existing ephemeral containers \\"debugger\\" may not be removed',
    );
  });

  it('kubectl debug --target shares the target container process namespace', async () => {
    node.createPod({
      metadata: { name: 'debug-me' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: node.busybox, command: ['sh', '-c', 'exec sleep 7777'] }],
      },
    });
    await node.waitPod('debug-me', 'Running', (p) => (p.status?.phase === 'Running' ? p : undefined));
    const debug = await node.kubectl([
      'debug',
      'debug-me',
      '--image',
      node.busybox,
      '--image-pull-policy',
      'IfNotPresent',
      '-c',
      'dbg',
      '--target',
      'app',
      '--',
      'sleep',
      '3600',
    ]);
    expect(debug.code, debug.stderr).toBe(0);
    await node.waitPod('debug-me', 'dbg running', ephemeralRunning('dbg'));
    // The target's process is visible from the debug container.
    const ps = await node.kubectl(['exec', 'debug-me', '-c', 'dbg', '--', 'ps', '-o', 'args']);
    expect(ps.stdout).toContain('sleep 7777');
  });
});
