import { join } from 'node:path';
import type { ObjectSource } from '../../src/env/resolve-env';
import type { PodSyncerHost } from '../../src/sync/pod-syncer';

/**
 * The host of a PodSyncer under test: node n with no IPs, 1 GB of memory and no cluster DNS;
 * `rootDir` holds the pod logs too. applyPodActions makes each pod's directories under it, so a
 * test that calls it passes a directory of its own; the default suits tests that only kill.
 */
export function podSyncerHost(rootDir = '/tmp/unused'): PodSyncerHost {
  return {
    dns: { clusterDNS: [], clusterDomain: '' },
    podLogsDir: join(rootDir, 'logs'),
    rootDir,
    nodeName: 'n',
    hostIPs: [],
    memoryCapacity: 1e9,
  };
}

/** A cluster with no ConfigMaps and no Secrets. */
export const noObjects: ObjectSource = {
  getConfigMap: async () => undefined,
  getSecret: async () => undefined,
};
