/**
 * The shapes of the in-tree volume sources that migrated to CSI drivers (core/v1 JSON field names,
 * as the API server serves them), of the PersistentVolumes and pod volumes that carry them, and
 * of the translation's result. Every field is optional: a field the JSON leaves out reads as Go's
 * zero value, as it does in upstream's structs.
 */
import type { NodeSelectorTerm } from '@nodeagent/primitives/scheduling';
import type { CsiSecretReference } from '../csi-secrets';
import type { PersistentVolumeObject } from '../csi-storage-objects';

/** core/v1 GCEPersistentDiskVolumeSource. */
export interface GcePersistentDiskSource {
  pdName?: string;
  fsType?: string;
  partition?: number;
  readOnly?: boolean;
}

/** core/v1 AWSElasticBlockStoreVolumeSource. */
export interface AwsElasticBlockStoreSource {
  volumeID?: string;
  fsType?: string;
  partition?: number;
  readOnly?: boolean;
}

/** core/v1 AzureDiskVolumeSource (its pointer fields: absent or null is Go's nil). */
export interface AzureDiskSource {
  diskName?: string;
  diskURI?: string;
  cachingMode?: string | null;
  fsType?: string | null;
  readOnly?: boolean | null;
  kind?: string | null;
}

/** core/v1 AzureFileVolumeSource (a pod's inline volume). */
export interface AzureFileVolumeSource {
  secretName?: string;
  shareName?: string;
  readOnly?: boolean;
}

/** core/v1 AzureFilePersistentVolumeSource: the inline source plus the secret's namespace. */
export interface AzureFilePersistentVolumeSource extends AzureFileVolumeSource {
  secretNamespace?: string | null;
}

/** core/v1 CinderVolumeSource and CinderPersistentVolumeSource (its secretRef is not translated). */
export interface CinderSource {
  volumeID?: string;
  fsType?: string;
  readOnly?: boolean;
  secretRef?: { name?: string; namespace?: string };
}

/** core/v1 VsphereVirtualDiskVolumeSource. */
export interface VsphereVirtualDiskSource {
  volumePath?: string;
  fsType?: string;
  storagePolicyName?: string;
  storagePolicyID?: string;
}

/** core/v1 PortworxVolumeSource. */
export interface PortworxSource {
  volumeID?: string;
  fsType?: string;
  readOnly?: boolean;
}

export type { NodeSelectorRequirement, NodeSelectorTerm } from '@nodeagent/primitives/scheduling';

/** core/v1 VolumeNodeAffinity: the nodes a PersistentVolume can be used from. */
export interface VolumeNodeAffinity {
  required?: { nodeSelectorTerms: NodeSelectorTerm[] };
}

/** The in-tree sources of a PersistentVolume's spec that have a CSI translation. */
export interface InTreePersistentVolumeSources {
  gcePersistentDisk?: GcePersistentDiskSource | null;
  awsElasticBlockStore?: AwsElasticBlockStoreSource | null;
  azureDisk?: AzureDiskSource | null;
  azureFile?: AzureFilePersistentVolumeSource | null;
  cinder?: CinderSource | null;
  vsphereVolume?: VsphereVirtualDiskSource | null;
  portworxVolume?: PortworxSource | null;
}

/** The metadata the translation reads (labels for topology, annotations for secrets). */
export type PersistentVolumeMetadata = NonNullable<PersistentVolumeObject['metadata']> & {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

/** A PersistentVolume as the API serves it, with an in-tree source or a CSI one. */
export interface InTreePersistentVolume {
  metadata?: PersistentVolumeMetadata;
  spec?: NonNullable<PersistentVolumeObject['spec']> &
    InTreePersistentVolumeSources & { nodeAffinity?: VolumeNodeAffinity };
}

/** A pod's volume: its name and the in-tree source that has a CSI translation. */
export interface InTreeVolume {
  name: string;
  gcePersistentDisk?: GcePersistentDiskSource | null;
  awsElasticBlockStore?: AwsElasticBlockStoreSource | null;
  azureDisk?: AzureDiskSource | null;
  azureFile?: AzureFileVolumeSource | null;
  cinder?: CinderSource | null;
  vsphereVolume?: VsphereVirtualDiskSource | null;
  portworxVolume?: PortworxSource | null;
}

/** core/v1 CSIPersistentVolumeSource as a translation fills it (Portworx sets the controller secrets too). */
export type TranslatedCsiSource = NonNullable<NonNullable<PersistentVolumeObject['spec']>['csi']> & {
  controllerPublishSecretRef?: CsiSecretReference;
  controllerExpandSecretRef?: CsiSecretReference;
};

/**
 * A translated PersistentVolume: for a PV, the whole input copied with its in-tree source swapped
 * for `spec.csi`; for an inline volume, a PV made for it (name, CSI source, access and volume mode).
 */
export interface TranslatedPersistentVolume extends PersistentVolumeObject {
  metadata?: PersistentVolumeMetadata;
  spec?: NonNullable<PersistentVolumeObject['spec']> & {
    nodeAffinity?: VolumeNodeAffinity;
    csi?: TranslatedCsiSource;
  };
}

/** One in-tree plugin's translation to its CSI driver (upstream's plugins.InTreePlugin, the kubelet's part). */
export interface InTreePlugin {
  /** The in-tree plugin's name, e.g. `kubernetes.io/gce-pd`. */
  readonly inTreePluginName: string;
  /** The CSI driver that took the plugin's volumes over, e.g. `pd.csi.storage.gke.io`. */
  readonly csiDriverName: string;
  /** Whether the PV carries this plugin's source. */
  canSupport(pv: InTreePersistentVolume | undefined): boolean;
  /** Whether the pod volume carries this plugin's source. */
  canSupportInline(volume: InTreeVolume | undefined): boolean;
  /** The PV with its in-tree source translated; the input is left as it was. Throws upstream's error. */
  translatePersistentVolume(pv: InTreePersistentVolume | undefined): TranslatedPersistentVolume;
  /** A PV for the pod's inline volume; podNamespace matters to Azure File only. Throws upstream's error. */
  translateInlineVolume(volume: InTreeVolume | undefined, podNamespace: string): TranslatedPersistentVolume;
}
