import { describe, expect, it } from 'vitest';
import { CLUSTER_CIDR, fabricAddressOf, nodeFabricCommands, podCidrOf } from '../src/fabric';
import { nodeLayout } from '../src/node-agents';

describe('multi-node layout', () => {
  it('gives node i the fabric address 10.240.0.(10+i) and the pod CIDR 10.244.i.0/24 inside the cluster CIDR', () => {
    expect([1, 2, 3].map(fabricAddressOf)).toEqual(['10.240.0.11', '10.240.0.12', '10.240.0.13']);
    expect([1, 2, 3].map(podCidrOf)).toEqual(['10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    expect(CLUSTER_CIDR).toBe('10.244.0.0/16');
  });

  it("joins node 2 of 3: its address, a default route out of eth0, and a route to each other node's pod CIDR via that node", () => {
    expect(nodeFabricCommands(2, 3)).toEqual([
      ['addr', 'add', '10.240.0.12/24', 'dev', 'eth0'],
      ['link', 'set', 'eth0', 'up'],
      ['route', 'add', 'default', 'dev', 'eth0'],
      ['route', 'add', '10.244.1.0/24', 'via', '10.240.0.11', 'dev', 'eth0'],
      ['route', 'add', '10.244.3.0/24', 'via', '10.240.0.13', 'dev', 'eth0'],
    ]);
  });

  it('keeps the single-node layout and gives each of several nodes its own name and directory', () => {
    expect(nodeLayout('/s', 1, 1)).toEqual({
      index: 1,
      name: 'nodeagent-demo-node',
      dir: '/s',
      logsDir: '/s/logs',
    });
    expect(nodeLayout('/s', 2, 3)).toEqual({
      index: 2,
      name: 'nodeagent-demo-node-2',
      dir: '/s/nodeagent-demo-node-2',
      logsDir: '/s/logs/nodeagent-demo-node-2',
    });
  });
});
