import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, type KubeObject, startApiServer } from '../src/index';
import { resizeSteps, snapshotAfter } from './fixtures/resize-steps';

// The recording's node: n1, 2 CPUs, allocatable memory 24683072Ki.
const NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'n1' } },
  status: {
    capacity: { cpu: '2', memory: '24785472Ki', pods: '110' },
    allocatable: { cpu: '2', memory: '24683072Ki', pods: '110' },
  },
};

/** The two pods of the recording (resize-v1.36/README.md). */
function recordedPod(name: 'rs-guaranteed' | 'rs-burstable'): KubeObject {
  const guaranteed = name === 'rs-guaranteed';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'rs' },
    spec: {
      nodeName: 'n1',
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'c',
          image: 'localhost/busybox:1',
          imagePullPolicy: 'Never',
          command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
          resizePolicy: [
            { resourceName: 'cpu', restartPolicy: 'NotRequired' },
            { resourceName: 'memory', restartPolicy: guaranteed ? 'NotRequired' : 'RestartContainer' },
          ],
          resources: guaranteed
            ? { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } }
            : { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
        },
      ],
    },
  };
}

describe('pods/resize against the v1.36 recording, step by step', () => {
  let server: ApiServer;
  const pods = () => server.resource('v1', 'pods');

  /** What the kubelet writes once it has actuated a resize: running container, its resources, observedGeneration. */
  function kubeletReports(name: string): void {
    const pod = server.registry.get(pods(), 'rs', name);
    const container = (pod.spec as { containers: { resources: { requests: object } }[] }).containers[0];
    server.registry.update(
      pods(),
      'rs',
      name,
      {
        ...pod,
        status: {
          phase: 'Running',
          observedGeneration: pod.metadata.generation,
          containerStatuses: [
            {
              name: 'c',
              ready: true,
              started: true,
              restartCount: 0,
              image: 'localhost/busybox:1',
              imageID: '',
              state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
              allocatedResources: container?.resources.requests,
              resources: container?.resources,
            },
          ],
        },
      },
      'status',
    );
  }

  beforeAll(async () => {
    server = await startApiServer();
    server.registry.create(server.resource('v1', 'namespaces'), undefined, {
      metadata: { name: 'rs' },
    });
    server.registry.create(server.resource('v1', 'nodes'), undefined, NODE);
    for (const name of ['rs-guaranteed', 'rs-burstable'] as const) {
      server.registry.create(pods(), 'rs', recordedPod(name));
      kubeletReports(name);
    }
  });
  afterAll(async () => {
    await server.close();
  });

  const steps = resizeSteps();
  it('reads the recording: two initial states and fourteen resize requests', () => {
    expect(steps.filter((s) => s.request === null)).toHaveLength(2);
    expect(steps.filter((s) => s.request !== null)).toHaveLength(14);
  });

  it('starts from the recorded state: generation 1 and the QoS classes upstream stored', () => {
    for (const step of steps.filter((s) => s.request === null)) {
      const pod = server.registry.get(pods(), 'rs', step.pod);
      const recorded = snapshotAfter(step);
      expect(pod.metadata.generation).toBe(recorded['metadata.generation']);
      expect((pod.spec as { containers: { resources: unknown }[] }).containers[0]?.resources).toEqual(
        recorded['spec.containers[0].resources'],
      );
      expect((pod.status as { qosClass: string }).qosClass).toBe(recorded['status.qosClass']);
    }
  });

  // Each step depends on the ones before it, as in the recording, so they run in file order.
  for (const [index, step] of steps.entries()) {
    if (step.request === null) continue;
    it(`step ${index}: ${step.pod} ${step.step} → ${step.patchHttpStatus}`, async () => {
      const res = await fetch(`${server.url}/api/v1/namespaces/rs/pods/${step.pod}/resize`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: JSON.stringify(step.request),
      });
      const body = (await res.json()) as KubeObject & {
        message?: string;
        reason?: string;
        details?: { causes?: { reason: string }[] };
      };
      expect(res.status, JSON.stringify(body)).toBe(step.patchHttpStatus);
      if (step.patchError !== undefined) {
        expect(body.message).toBe(step.patchError);
        if (res.status === 403) {
          expect(body.reason).toBe('Forbidden');
          expect(body.details?.causes).toEqual([{ reason: 'NodeCapacity' }]);
        } else expect(body.reason).toBe('Invalid');
      } else {
        kubeletReports(step.pod);
      }
      const pod = server.registry.get(pods(), 'rs', step.pod);
      const recorded = snapshotAfter(step);
      expect(pod.metadata.generation).toBe(recorded['metadata.generation']);
      expect((pod.spec as { containers: { resources: unknown }[] }).containers[0]?.resources).toEqual(
        recorded['spec.containers[0].resources'],
      );
      expect((pod.status as { qosClass: string }).qosClass).toBe(recorded['status.qosClass']);
    });
  }
});
