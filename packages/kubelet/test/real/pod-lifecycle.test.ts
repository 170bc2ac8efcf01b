import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { type NodeHarness, startNodeHarness } from './node-harness';

/**
 * Conformance pod lifecycle behaviours (test/e2e/common/node/pods.go, init_container.go) on a
 * real containerd through the in-process API server.
 */
let node: NodeHarness;

beforeAll(async () => {
  node = await startNodeHarness();
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

const isRunning = (pod: Pod) =>
  pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.state.running)
    ? pod
    : undefined;

describe('pod lifecycle on a real containerd', { timeout: 120_000 }, () => {
  it('should allow activeDeadlineSeconds to be updated', async () => {
    node.createPod({
      metadata: { name: 'pod-update-activedeadlineseconds', labels: { name: 'foo' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'nginx', image: node.busybox, command: ['sh', '-c', 'sleep 3600'] }],
      },
    });
    const running = await node.waitPod('pod-update-activedeadlineseconds', 'Running', isRunning);
    const startedAt = Date.parse(running.status!.startTime!);
    node.patchPod('pod-update-activedeadlineseconds', { spec: { activeDeadlineSeconds: 5 } });
    const failed = await node.waitPod('pod-update-activedeadlineseconds', 'DeadlineExceeded', (pod) =>
      pod.status?.phase === 'Failed' && pod.status.containerStatuses?.[0]?.state.terminated ? pod : undefined,
    );
    expect(failed.status).toMatchObject({
      phase: 'Failed',
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    });
    // Killed at the deadline (startTime + 5 s), not at some later resync.
    const finishedAt = Date.parse(failed.status!.containerStatuses![0]!.state.terminated!.finishedAt!);
    expect(finishedAt - startedAt).toBeGreaterThanOrEqual(5000);
    expect(finishedAt - startedAt).toBeLessThan(5000 + 5000);
  });
});
