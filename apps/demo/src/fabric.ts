import { createNetns, type Netns, openNetns } from '@nodeagent/testing';

/**
 * The multi-node box's network (`--nodes N` > 1): a "fabric" network namespace holding one
 * bridge, `fabric0`, that stands for the data-centre network between the nodes. Each node's
 * namespace gets a veth `eth0` whose peer `fab<i>` is a port of that bridge, an address on the
 * fabric subnet (its InternalIP), a default route out of `eth0`, and one route per other node's
 * pod CIDR via that node's address — what a cloud's route table or a flat-network CNI sets up.
 * Every link, address and route lives in a namespace this demo created; the host's own network
 * stack is never touched.
 */

/** The nodes' addresses: node i is 10.240.0.(10 + i) (its InternalIP). */
export const FABRIC_SUBNET = '10.240.0.0/24';
/** The pod CIDRs of all nodes (kube-proxy's --cluster-cidr, kube-controller-manager's --cluster-cidr). */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** The bridge in the fabric namespace. */
export const FABRIC_BRIDGE = 'fabric0';
/** More nodes than this would not fit a laptop: each runs containerd, a kubelet and kube-proxy. */
export const MAX_NODES = 5;

/** Node i's (1-based) address on the fabric. */
export function fabricAddressOf(index: number): string {
  return `10.240.0.${10 + index}`;
}

/** Node i's (1-based) pod CIDR, as a node IPAM controller would allocate from CLUSTER_CIDR. */
export function podCidrOf(index: number): string {
  return `10.244.${index}.0/24`;
}

/** The `ip` commands that join node `index` of `count` to the fabric, run inside the node namespace. */
export function nodeFabricCommands(index: number, count: number): string[][] {
  const commands = [
    ['addr', 'add', `${fabricAddressOf(index)}/24`, 'dev', 'eth0'],
    ['link', 'set', 'eth0', 'up'],
    // A real node has a default route; without any, connect() to a ClusterIP fails with
    // ENETUNREACH before kube-proxy's nat OUTPUT rules see the packet. Nothing answers beyond the
    // fabric, so traffic to anywhere else stops there.
    ['route', 'add', 'default', 'dev', 'eth0'],
  ];
  for (let peer = 1; peer <= count; peer++) {
    if (peer === index) continue;
    commands.push(['route', 'add', podCidrOf(peer), 'via', fabricAddressOf(peer), 'dev', 'eth0']);
  }
  return commands;
}

export interface Fabric {
  readonly netns: Netns;
  /** Joins a node namespace (by its `ip netns` name) as node `index` of `count`. */
  attach(nodeNetnsName: string, index: number, count: number): Promise<void>;
  delete(): Promise<void>;
}

/** Creates the fabric namespace `na-fabric-<pid>-<random>` with its bridge up. */
export async function createFabric(): Promise<Fabric> {
  const netns = await createNetns({ purpose: 'fabric' });
  try {
    await netns.exec('ip', ['link', 'add', FABRIC_BRIDGE, 'type', 'bridge']);
    await netns.exec('ip', ['link', 'set', FABRIC_BRIDGE, 'up']);
  } catch (error) {
    await netns.delete();
    throw error;
  }
  return {
    netns,
    async attach(nodeNetnsName, index, count) {
      const port = `fab${index}`;
      // Made from inside the fabric namespace with the peer created straight in the node's: the
      // pair never exists in the host's namespace, not even for a moment.
      await netns.exec('ip', [
        'link',
        'add',
        'name',
        port,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        nodeNetnsName,
      ]);
      await netns.exec('ip', ['link', 'set', port, 'master', FABRIC_BRIDGE]);
      await netns.exec('ip', ['link', 'set', port, 'up']);
      const node = openNetns(nodeNetnsName);
      for (const args of nodeFabricCommands(index, count)) await node.exec('ip', args);
      // The node routes between eth0 and its pod bridge (a setting of its own namespace).
      await node.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    },
    delete: () => netns.delete(),
  };
}
