import { describe, expect, it } from 'vitest';
import { podFromContainerAnnotations } from '../src/cri/restored-pod-spec';

describe("a pod spec restored from its containers' annotations (upstream restoreSpecsFromContainerLabels)", () => {
  it('restores the preStop hook, ports, termination message path and the pod grace periods; leaves out what does not parse', () => {
    const pod = podFromContainerAnnotations({ name: 'web', namespace: 'shop', uid: 'u-1' }, [
      {
        name: 'app',
        annotations: {
          'io.kubernetes.container.preStopHandler': '{"exec":{"command":["sh","-c","sleep 1"]}}',
          'io.kubernetes.container.ports': '[{"containerPort":8080,"protocol":"TCP"}]',
          'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
          'io.kubernetes.pod.terminationGracePeriod': '45',
          'io.kubernetes.pod.deletionGracePeriod': '5',
        },
      },
      { name: 'sidecar', annotations: { 'io.kubernetes.container.preStopHandler': '{not json' } },
    ]);
    expect(pod).toEqual({
      metadata: { name: 'web', namespace: 'shop', uid: 'u-1', deletionGracePeriodSeconds: 5 },
      spec: {
        terminationGracePeriodSeconds: 45,
        containers: [
          {
            name: 'app',
            lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } },
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            terminationMessagePath: '/dev/termination-log',
          },
          { name: 'sidecar' },
        ],
      },
    });
  });
});
