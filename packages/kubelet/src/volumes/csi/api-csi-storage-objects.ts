import { httpStatusCode } from '../../api/http-status-code';
import type {
  ClaimObject,
  CsiDriverObject,
  CsiStorageObjects,
  NodeVolumesObject,
  PersistentVolumeObject,
  VolumeAttachmentObject,
} from './csi-storage-objects';

/** The reads CSI volumes make, under client-node's method names (CoreV1Api, StorageV1Api). */
export interface CsiStorageRequests {
  /** Reads a PersistentVolumeClaim by namespace and name. */
  readNamespacedPersistentVolumeClaim(param: { name: string; namespace: string }): Promise<unknown>;
  /** Reads a PersistentVolume by name. */
  readPersistentVolume(param: { name: string }): Promise<unknown>;
  /** Reads a CSIDriver by name. */
  readCSIDriver(param: { name: string }): Promise<unknown>;
  /** Reads a VolumeAttachment by name. */
  readVolumeAttachment(param: { name: string }): Promise<unknown>;
  /** Reads a Secret a CSI source names (without it such volumes fail, naming the secret). */
  readNamespacedSecret?(param: { name: string; namespace: string }): Promise<unknown>;
  /** Reads a Node by name. */
  readNode(param: { name: string }): Promise<unknown>;
}

async function orUndefined<T>(read: () => Promise<unknown>): Promise<T | undefined> {
  try {
    return (await read()) as T;
  } catch (e) {
    if (httpStatusCode(e) === 404) return undefined;
    throw e;
  }
}

/** CSI volumes' API objects read through the API server (claims, volumes, CSIDrivers); a 404 reads as missing. */
export function apiCsiStorageObjects(
  core: Pick<
    CsiStorageRequests,
    'readNamespacedPersistentVolumeClaim' | 'readPersistentVolume' | 'readNamespacedSecret'
  > &
    Partial<Pick<CsiStorageRequests, 'readNode'>>,
  storage: Pick<CsiStorageRequests, 'readCSIDriver' | 'readVolumeAttachment'>,
): CsiStorageObjects {
  return {
    claim: (namespace, name) =>
      orUndefined<ClaimObject>(() => core.readNamespacedPersistentVolumeClaim({ name, namespace })),
    persistentVolume: (name) =>
      orUndefined<PersistentVolumeObject>(() => core.readPersistentVolume({ name })),
    csiDriver: (name) => orUndefined<CsiDriverObject>(() => storage.readCSIDriver({ name })),
    volumeAttachment: async (name) =>
      (await storage.readVolumeAttachment({ name })) as VolumeAttachmentObject,
    ...(core.readNamespacedSecret
      ? {
          secret: async (namespace: string, name: string) =>
            (await core.readNamespacedSecret?.({ name, namespace })) as { data?: Record<string, string> },
        }
      : {}),
    ...(core.readNode
      ? { node: async (name: string) => (await core.readNode!({ name })) as NodeVolumesObject }
      : {}),
  };
}
