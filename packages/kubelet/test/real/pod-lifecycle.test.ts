import { describe, expect, it } from 'vitest';
import { type NodeHarness, runningPod, useNodeHarness, waitFor } from './node-harness';

/**
 * Conformance pod lifecycle behaviours (test/e2e/common/node/pods.go, init_container.go) on a
 * real containerd through the in-process API server.
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

describe('pod lifecycle on a real containerd', { timeout: 120_000 }, () => {
  it('should allow activeDeadlineSeconds to be updated', async () => {
    node.createPod({
      metadata: { name: 'pod-update-activedeadlineseconds', labels: { name: 'foo' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'nginx', image: node.busybox, command: ['sh', '-c', 'sleep 3600'] }],
      },
    });
    const running = await node.waitPod('pod-update-activedeadlineseconds', 'Running', runningPod);
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

  it('should invoke init containers on a RestartAlways pod', async () => {
    node.createPod({
      metadata: { name: 'pod-init-restart-always', labels: { name: 'foo' } },
      spec: {
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 1,
        initContainers: [
          { name: 'init1', image: node.busybox, command: ['/bin/true'] },
          { name: 'init2', image: node.busybox, command: ['/bin/true'] },
        ],
        containers: [{ name: 'run1', image: node.busybox, command: ['sh', '-c', 'sleep 3600'] }],
      },
    });
    const pod = await node.waitPod('pod-init-restart-always', 'Running', runningPod);
    expect(pod.status?.initContainerStatuses).toHaveLength(2);
    for (const status of pod.status!.initContainerStatuses!) {
      // upstream: "init container init1 should be in Ready status" and terminated with 0
      expect(status.ready, `${status.name} ready`).toBe(true);
      expect(status.state.terminated?.exitCode).toBe(0);
    }
    expect(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('should call prestop when killing a pod (the PreStop test shape on busybox)', async () => {
    // The conformance server is agnhost nettest: it exits at once unless the pod has the
    // KUBERNETES_SERVICE_HOST/PORT service links (rest.InClusterConfig). This server does the
    // same, then records what /cgi-bin/write receives.
    const services = node.api.resource('v1', 'services');
    if (!node.api.registry.find(services, 'default', 'kubernetes')) {
      node.api.registry.create(services, 'default', {
        metadata: { name: 'kubernetes' },
        spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
      });
    }
    await waitFor('the kubelet to see the kubernetes Service', () =>
      node.services.list().some((s) => s.metadata.name === 'kubernetes') ? true : undefined,
    );
    const serverScript = [
      '[ -n "$KUBERNETES_SERVICE_HOST" ] && [ -n "$KUBERNETES_SERVICE_PORT" ] || { echo "Unable to create config; error: not in cluster"; exit 1; }',
      'mkdir -p /www/cgi-bin',
      "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\ncat >> /tmp/received\\necho >> /tmp/received\\necho ok\\n' > /www/cgi-bin/write",
      'chmod +x /www/cgi-bin/write',
      'exec httpd -f -p 8080 -h /www',
    ].join('; ');
    node.createPod({
      metadata: { name: 'server' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'agnhost-container',
            image: node.busybox,
            command: ['sh', '-c', serverScript],
            ports: [{ containerPort: 8080 }],
          },
        ],
      },
    });
    const server = await node.waitPod('server', 'Running', runningPod);
    const value = '{"Source": "prestop"}';
    node.createPod({
      metadata: { name: 'tester' },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'tester',
            image: node.busybox,
            command: ['sleep', '600'],
            lifecycle: {
              preStop: {
                exec: {
                  command: [
                    'wget',
                    '-O-',
                    `--post-data=${value}`,
                    `http://${server.status!.podIP}:8080/cgi-bin/write`,
                  ],
                },
              },
            },
          },
        ],
      },
    });
    await node.waitPod('tester', 'Running', runningPod);
    node.deletePod('tester');
    const received = await waitFor(
      'the preStop request on the server',
      async () => {
        const text = await node.exec('server', 'agnhost-container', [
          'sh',
          '-c',
          'cat /tmp/received 2>/dev/null || true',
        ]);
        return text.includes(value) ? text : undefined;
      },
      60_000,
    );
    expect(received.trim()).toBe(value);
    // The server never restarted: it had its service links.
    expect(node.getPod('server')?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('backs off restarts after liveness kills: two at once, then 10 s after the kill', async () => {
    node.createPod({
      metadata: { name: 'liveness-exec' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: node.busybox,
            command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"],
            livenessProbe: { exec: { command: ['/bin/false'] }, periodSeconds: 2, failureThreshold: 2 },
          },
        ],
      },
    });
    // restartCount → (when the previous instance was killed, when this one started), in seconds.
    const restarts = new Map<number, { killedAt: number; startedAt: number }>();
    await waitFor(
      'three restarts',
      () => {
        const status = node.getPod('liveness-exec')?.status?.containerStatuses?.[0];
        const killed = status?.lastState.terminated?.finishedAt;
        const started = status?.state.running?.startedAt;
        if (status && killed && started && status.restartCount > 0 && !restarts.has(status.restartCount)) {
          restarts.set(status.restartCount, { killedAt: Date.parse(killed), startedAt: Date.parse(started) });
        }
        return restarts.has(3) ? true : undefined;
      },
      90_000,
    );
    const delay = (n: number) => (restarts.get(n)!.startedAt - restarts.get(n)!.killedAt) / 1000;
    // Each delay is the back-off plus the container's start, which a saturated machine stretches
    // by seconds, and the times are whole seconds (RFC 3339). So each bound sits between the
    // back-off steps it tells apart: none (0 s) from the first (10 s), and that from the next (20 s).
    expect(delay(1)).toBeLessThan(9);
    expect(delay(2)).toBeLessThan(9);
    expect(delay(3)).toBeGreaterThanOrEqual(9);
    expect(delay(3)).toBeLessThan(19);
    expect(node.getPod('liveness-exec')?.status?.containerStatuses?.[0]?.state.running).toBeDefined();
  });
});
