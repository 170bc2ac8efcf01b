import { snapshotFromObjects } from '../src/index';
import { cidrLocalDetector, renderIptablesRuleset } from '../src/iptables/index';
import { benchCluster } from './bench-cluster';

/**
 * A full sync's rendered ruleset in iptables mode (its restore payload and rule counts) for
 * `services` Services of `endpoints` endpoints each (bench-cluster's objects, node-0, cluster
 * CIDR 10.128.0.0/9): what the netlink writer's benches write.
 */
export function benchIptablesRuleset(services: number, endpoints: number) {
  const cluster = benchCluster(services, endpoints);
  const snapshot = snapshotFromObjects({
    family: 'IPv4',
    nodeName: 'node-0',
    services: cluster.services,
    endpointSlices: cluster.slices,
  });
  return renderIptablesRuleset(snapshot, { localDetector: cidrLocalDetector('10.128.0.0/9') });
}
