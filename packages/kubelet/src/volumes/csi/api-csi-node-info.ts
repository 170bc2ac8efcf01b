import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { CodedError } from '@nodeagent/primitives';
import { httpStatusCode } from '../../api/http-status-code';
import type { CsiNodeDriver, CsiNodeInfo } from './csi-node-info';

/** The CSINode object as far as the kubelet writes it. */
export interface CsiNodeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    resourceVersion?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
    [k: string]: unknown;
  };
  spec: { drivers: CsiNodeDriver[] };
}

/** The StorageV1Api calls the kubelet makes for CSINode (client-node's names and parameters). */
export interface CsiNodeRequests {
  /** Reads the named CSINode; rejects with the API's error (404 when missing). */
  readCSINode(param: { name: string }): Promise<unknown>;
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
 * UninstallCSIDriver takes the entry out and leaves the labels, as upstream.
 */
export function apiCsiNodeInfo(
  nodeName: string,
  core: Pick<CoreV1Requests, 'readNode' | 'patchNode'>,
  storage: CsiNodeRequests,
): CsiNodeInfo {
  const updateCsiNode = async (
    change: (drivers: CsiNodeDriver[]) => CsiNodeDriver[],
    createIfMissing: boolean,
  ): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      let existing: CsiNodeObject | undefined;
      try {
        existing = (await storage.readCSINode({ name: nodeName })) as CsiNodeObject;
      } catch (e) {
        if (httpStatusCode(e) !== 404) throw e;
      }
      try {
        if (!existing && !createIfMissing) return;
        if (!existing) {
          const node = (await core.readNode({ name: nodeName })) as { metadata?: { uid?: string } };
          await storage.createCSINode({
            body: {
              apiVersion: 'storage.k8s.io/v1',
              kind: 'CSINode',
              metadata: {
                name: nodeName,
                ownerReferences: [
                  { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata?.uid ?? '' },
                ],
              },
              spec: { drivers: change([]) },
            },
          });
        } else {
          const body = {
            ...existing,
            spec: { ...existing.spec, drivers: change(existing.spec?.drivers ?? []) },
          };
          await storage.replaceCSINode({ name: nodeName, body });
        }
        return;
      } catch (e) {
        const code = httpStatusCode(e);
        if ((code === 409 || code === 404) && attempt < CONFLICT_RETRIES) continue;
        throw e;
      }
    }
  };
  return {
    async installDriver(driver, topology) {
      if (Object.keys(topology).length > 0) {
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
      await updateCsiNode((drivers) => [...drivers.filter((d) => d.name !== driver.name), driver], true);
    },
    async uninstallDriver(name) {
      await updateCsiNode((drivers) => drivers.filter((d) => d.name !== name), false);
    },
  };
}
