import { describe, expect, it } from 'vitest';
import { readyEndpointPods, renderClusterView, viewOf } from '../src/cluster-view';

const objects = {
  nodes: [
    {
      metadata: { name: 'n1' },
      spec: {
        podCIDR: '10.244.1.0/24',
        taints: [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
          { key: 'dedicated', value: 'web', effect: 'NoSchedule' },
        ],
      },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.1.0.1' }],
        nodeInfo: { containerRuntimeVersion: 'containerd://1.6.20' },
      },
    },
  ],
  pods: [
    {
      metadata: { name: 'web-1' },
      spec: { nodeName: 'n1' },
      status: {
        phase: 'Running',
        podIP: '10.1.0.2',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ restartCount: 2 }],
      },
    },
    { metadata: { name: 'web-2' }, status: { phase: 'Pending' } },
  ],
  services: [
    { metadata: { name: 'web' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.2', ports: [{ port: 80 }] } },
    {
      metadata: { name: 'web-np' },
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.0.3',
        ports: [{ port: 80, nodePort: 30001, protocol: 'TCP' }],
      },
    },
  ],
  slices: [
    {
      metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [
        { addresses: ['10.1.0.2'], conditions: { ready: true }, targetRef: { name: 'web-1' } },
        { addresses: ['10.1.0.3'], conditions: { ready: false }, targetRef: { name: 'web-2' } },
      ],
    },
  ],
};

describe('cluster view', () => {
  it('reads node readiness and taints, pod readiness, node and restarts, service ports and slice endpoints', () => {
    const view = viewOf(objects);
    expect(view.nodes).toEqual([
      {
        name: 'n1',
        ready: 'True',
        taints: ['node.kubernetes.io/unreachable:NoExecute', 'dedicated=web:NoSchedule'],
        internalIP: '10.1.0.1',
        podCIDR: '10.244.1.0/24',
        runtime: 'containerd://1.6.20',
      },
    ]);
    expect(view.pods).toEqual([
      { name: 'web-1', phase: 'Running', ready: true, podIP: '10.1.0.2', node: 'n1', restarts: 2 },
      { name: 'web-2', phase: 'Pending', ready: false, podIP: '', node: '', restarts: 0 },
    ]);
    expect(view.services.map((s) => s.ports)).toEqual(['80/TCP', '80:30001/TCP']);
    expect(view.services.map((s) => s.nodePorts)).toEqual([[], [30001]]);
    expect(readyEndpointPods(view, 'web')).toEqual(['web-1']);
    expect(readyEndpointPods(view, 'other')).toEqual([]);
  });

  it('renders aligned kubectl-style sections', () => {
    const text = renderClusterView(viewOf(objects));
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'NODE  READY  TAINTS                                                             INTERNAL-IP  POD-CIDR       RUNTIME',
    );
    expect(lines[1]).toBe(
      'n1    True   node.kubernetes.io/unreachable:NoExecute,dedicated=web:NoSchedule  10.1.0.1     10.244.1.0/24  containerd://1.6.20',
    );
    expect(text).toContain('web-1  Running  yes    10.1.0.2  n1      2');
    expect(text).toContain('web-2  Pending  no     <none>    <none>  0');
    expect(text).toContain('web-abc        web      10.1.0.2(web-1) 10.1.0.3(web-2,not ready)');
    expect(text).toContain('web-np   NodePort   10.96.0.3   80:30001/TCP');
  });
});
