import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { CodedError } from '@nodeagent/primitives';
import { httpStatusCode } from '../../api/http-status-code';
import { allocatableCount, type CsiNodeDriver, type CsiNodeInfo } from './csi-node-info';
import type { CsiNodeInitializer } from './csi-node-initialization';
import { withMigrationAnnotation } from './migrated-plugins-annotation';
import { migratedInTreePluginNames } from './migration/migrated-volumes';

/** The CSINode object as far as the kubelet writes it. */
export interface CsiNodeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
    [k: string]: unknown;
  };
  spec: { drivers: CsiNodeDriver[] };
}

/** The StorageV1Api calls the kubelet makes for CSINode (client-node's names and parameters). */
export interface CsiNodeRequests {
  /**
   * Reads the named CSINode; rejects with the API's error (404 when missing). With
   * `resourceVersion: '0'` the API server may answer from its cache.
   */
  readCSINode(param: { name: string; resourceVersion?: string }): Promise<unknown>;
  /** Creates a CSINode. */
  createCSINode(param: { body: CsiNodeObject }): Promise<unknown>;
  /** Replaces the named CSINode; the body's resourceVersion guards against conflicting writes. */
  replaceCSINode(param: { name: string; body: CsiNodeObject }): Promise<unknown>;
}

/** A topology label the driver reports differs from the Node's (upstream's collision error). */
export class TopologyLabelCollisionError extends CodedError {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly existing: string,
  ) {
    super(
      'TOPOLOGY_LABEL_COLLISION',
      `detected topology value collision: driver reported "${key}":"${value}" but existing label is "${key}":"${existing}"`,
    );
  }
}

/** How often a conflicting CSINode write is retried (upstream retries on conflict as well). */
const CONFLICT_RETRIES = 5;

/**
 * CSINode and Node labels through the API (upstream nodeinfomanager): InstallCSIDriver labels
 * the Node with the driver's topology (refusing a label that already has another value), then
 * puts the driver's entry into this node's CSINode, creating it owned by the Node when missing;
 * UninstallCSIDriver takes the entry out and leaves the labels, as upstream. Every CSINode it
 * creates or writes carries the migrated-plugins annotation naming `migratedPlugins` (default:
 * the seven in-tree plugins v1.36 hands to CSI).
 */
export function apiCsiNodeInfo(
  nodeName: string,
  core: Pick<CoreV1Requests, 'readNode' | 'patchNode'>,
  storage: CsiNodeRequests,
  migratedPlugins: readonly string[] = migratedInTreePluginNames(),
): CsiNodeInfo & CsiNodeInitializer {
  const read = async (): Promise<CsiNodeObject | undefined> => {
    try {
      return (await storage.readCSINode({ name: nodeName })) as CsiNodeObject;
    } catch (e) {
      if (httpStatusCode(e) === 404) return undefined;
      throw e;
    }
  };
  // Upstream's CreateCSINode: owned by the Node (so it goes with it), annotated from the start.
  const create = async (drivers: CsiNodeDriver[]): Promise<void> => {
    const node = (await core.readNode({ name: nodeName })) as { metadata?: { uid?: string } };
    const annotations = withMigrationAnnotation(undefined, migratedPlugins);
    await storage.createCSINode({
      body: {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSINode',
        metadata: {
          name: nodeName,
          ...(annotations ? { annotations } : {}),
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata?.uid ?? '' },
          ],
        },
        spec: { drivers },
      },
    });
  };
  const replace = (existing: CsiNodeObject, drivers: CsiNodeDriver[], annotations?: Record<string, string>) =>
    storage.replaceCSINode({
      name: nodeName,
      body: {
        ...existing,
        metadata: { ...existing.metadata, ...(annotations ? { annotations } : {}) },
        spec: { ...existing.spec, drivers },
      },
    });
  return {
    async reachable() {
      // Upstream's waitForAPIServerForever reads this node's CSINode from the cache: any answer
      // but an error means the kubelet can reach the API server and may read CSINodes.
      try {
        await storage.readCSINode({ name: nodeName, resourceVersion: '0' });
      } catch (e) {
        if (httpStatusCode(e) !== 404) throw e;
      }
    },
    async initialize() {
      const existing = await read();
      if (!existing) return create([]);
      const annotations = withMigrationAnnotation(existing.metadata.annotations, migratedPlugins);
      if (annotations) await replace(existing, existing.spec?.drivers ?? [], annotations);
    },
    async installDriver(driver, topology) {
      await labelTopology(nodeName, core, topology);
      await retryingConflicts(async () => {
        const existing = await read();
        if (!existing) return create([driver]);
        const drivers = existing.spec?.drivers ?? [];
        const annotations = withMigrationAnnotation(existing.metadata.annotations, migratedPlugins);
        // Upstream writes nothing when the entry has the same node ID and topology keys and the
        // annotation is right: a driver registering again after a restart costs no write.
        if (!annotations && drivers.some((d) => sameEntry(d, driver))) return;
        await replace(existing, [...drivers.filter((d) => d.name !== driver.name), driver], annotations);
      });
    },
    async updateDriverAllocatable(name, maxVolumesPerNode) {
      await retryingConflicts(async () => {
        const existing = await read();
        const drivers = existing?.spec?.drivers ?? [];
        const had = drivers.find((d) => d.name === name);
        if (!existing || !had) throw new Error(`CSINode ${nodeName} has no driver ${name}`);
        const count = allocatableCount(maxVolumesPerNode);
        if (had.allocatable?.count === count) return;
        const { allocatable: _old, ...entry } = had;
        const updated = count === undefined ? entry : { ...entry, allocatable: { count } };
        await replace(
          existing,
          drivers.map((d) => (d === had ? updated : d)),
        );
      });
    },
    async uninstallDriver(name) {
      await retryingConflicts(async () => {
        const existing = await read();
        const drivers = existing?.spec?.drivers ?? [];
        if (!existing || !drivers.some((d) => d.name === name)) return;
        await replace(
          existing,
          drivers.filter((d) => d.name !== name),
        );
      });
    },
  };
}

/** The same driver with the same node ID and topology keys (upstream ignores the count here). */
function sameEntry(had: CsiNodeDriver, driver: CsiNodeDriver): boolean {
  const keys = new Set(had.topologyKeys ?? []);
  return (
    had.name === driver.name &&
    had.nodeID === driver.nodeID &&
    keys.size === driver.topologyKeys.length &&
    driver.topologyKeys.every((k) => keys.has(k))
  );
}

/** Runs a read-and-write again after a conflict (or the object vanishing between them). */
async function retryingConflicts(attempt: () => Promise<void>): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (e) {
      const code = httpStatusCode(e);
      if ((code === 409 || code === 404) && tries < CONFLICT_RETRIES) continue;
      throw e;
    }
  }
}

/** Labels the Node with the driver's topology, refusing a label that holds another value. */
async function labelTopology(
  nodeName: string,
  core: Pick<CoreV1Requests, 'readNode' | 'patchNode'>,
  topology: Readonly<Record<string, string>>,
): Promise<void> {
  if (Object.keys(topology).length === 0) return;
  const node = (await core.readNode({ name: nodeName })) as {
    metadata?: { labels?: Record<string, string> };
  };
  const labels = node.metadata?.labels ?? {};
  const missing: Record<string, string> = {};
  for (const [key, value] of Object.entries(topology)) {
    const had = labels[key];
    if (had !== undefined && had !== value) throw new TopologyLabelCollisionError(key, value, had);
    if (had === undefined) missing[key] = value;
  }
  if (Object.keys(missing).length > 0)
    await core.patchNode(
      { name: nodeName, body: { metadata: { labels: missing } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
}
