import type { NodeSelectorTerm } from '@nodeagent/primitives/scheduling';
import type { CsiSecretReader, CsiSecretReference } from './csi-secrets';

/** The parts of a PersistentVolumeClaim the kubelet reads. */
export interface ClaimObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    deletionTimestamp?: string | Date;
    ownerReferences?: { uid?: string; controller?: boolean }[];
  };
  spec?: { volumeName?: string; accessModes?: string[]; resources?: { requests?: Record<string, string> } };
  status?: ClaimStatus;
}

/** A claim's status as the kubelet reads and writes it (phase, and the sizes of expansion). */
export interface ClaimStatus {
  phase?: string;
  capacity?: Record<string, string>;
  allocatedResources?: Record<string, string>;
  allocatedResourceStatuses?: Record<string, string>;
  conditions?: ClaimCondition[];
}

/** A PersistentVolumeClaimCondition (Resizing, FileSystemResizePending, NodeResizeError...). */
export interface ClaimCondition {
  type: string;
  status: string;
  lastProbeTime?: string | Date;
  lastTransitionTime?: string | Date;
  reason?: string;
  message?: string;
}

/** The parts of a PersistentVolume the kubelet reads: a CSI source, or one it mounts itself. */
export interface PersistentVolumeObject {
  /** annotations: the beta mount-options one (mount-options.ts). */
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: {
    /** A hostPath PersistentVolume (local-path provisioners): the node's path, as an inline hostPath. */
    hostPath?: { path: string; type?: string };
    /** The nodes the volume can be used on (required terms; a local volume always has them). */
    nodeAffinity?: { required?: { nodeSelectorTerms: NodeSelectorTerm[] } };
    /** A local PersistentVolume: the node's path, bind-mounted into the pod's volume directory. */
    local?: { path: string; fsType?: string };
    /** An NFS PersistentVolume, mounted as an inline nfs volume is. */
    nfs?: { server: string; path: string; readOnly?: boolean };
    /** A FlexVolume PersistentVolume, set up through its driver under volumePluginDir. */
    flexVolume?: {
      driver: string;
      fsType?: string;
      secretRef?: { name?: string; namespace?: string };
      readOnly?: boolean;
      options?: Record<string, string>;
    };
    accessModes?: string[];
    capacity?: Record<string, string>;
    volumeMode?: string;
    claimRef?: { namespace?: string; name?: string; uid?: string };
    mountOptions?: string[];
    csi?: {
      driver: string;
      volumeHandle: string;
      readOnly?: boolean;
      fsType?: string;
      volumeAttributes?: Record<string, string>;
      nodeStageSecretRef?: CsiSecretReference;
      nodePublishSecretRef?: CsiSecretReference;
      nodeExpandSecretRef?: CsiSecretReference;
    };
  };
}

/** The parts of a CSIDriver object that change how the kubelet calls the driver. */
export interface CsiDriverObject {
  spec?: {
    attachRequired?: boolean;
    podInfoOnMount?: boolean;
    volumeLifecycleModes?: string[];
    fsGroupPolicy?: string;
    requiresRepublish?: boolean;
    tokenRequests?: { audience?: string; expirationSeconds?: number }[];
    seLinuxMount?: boolean;
  };
}

/** The parts of a VolumeAttachment the kubelet reads (the external attacher writes its status). */
export interface VolumeAttachmentObject {
  status?: {
    attached?: boolean;
    attachmentMetadata?: Record<string, string>;
    /** The external attacher's error; `errorCode` is the driver's gRPC code (8: ResourceExhausted). */
    attachError?: { message?: string; errorCode?: number };
  };
}

/** The parts of the kubelet's own Node that say which volumes the attach-detach controller attached. */
export interface NodeVolumesObject {
  /** The kubelet's volumesInUse and the attach-detach controller's volumesAttached (unique volume names). */
  status?: { volumesInUse?: string[]; volumesAttached?: { name: string; devicePath?: string }[] };
}

/**
 * The API objects CSI volumes need (upstream reads them through the Node authorizer's view): a
 * pod's claim, the volume bound to it, the driver's CSIDriver object. Each resolves undefined for
 * an object that does not exist.
 */
export interface CsiStorageObjects {
  /** A PersistentVolumeClaim by namespace and name; undefined when it does not exist. */
  claim(namespace: string, name: string): Promise<ClaimObject | undefined>;
  /** A PersistentVolume by name; undefined when it does not exist. */
  persistentVolume(name: string): Promise<PersistentVolumeObject | undefined>;
  /** A CSIDriver by name; undefined when it does not exist. */
  csiDriver(name: string): Promise<CsiDriverObject | undefined>;
  /** A VolumeAttachment by name; rejects with the API's error (upstream reports the GET error). */
  volumeAttachment(name: string): Promise<VolumeAttachmentObject>;
  /** A Secret a CSI source names for the driver (its data base64); rejects with the API's error. None: such volumes fail. */
  secret?: CsiSecretReader;
  /**
   * The kubelet's Node (its status.volumesInUse and volumesAttached), for upstream's
   * verifyControllerAttachedVolume; rejects with the API's error. Without it, a volume that needs
   * attaching is checked on its VolumeAttachment only.
   */
  node?(name: string): Promise<NodeVolumesObject>;
}
