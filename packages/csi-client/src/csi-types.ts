// The CSI spec v1 messages this client sends and reads, as plain objects (field names in
// camelCase as protobufjs gives them; the wire names are snake_case: volume_id, target_path).

/** VolumeCapability.AccessMode.Mode by name. */
export type AccessModeName =
  | 'UNKNOWN'
  | 'SINGLE_NODE_WRITER'
  | 'SINGLE_NODE_READER_ONLY'
  | 'MULTI_NODE_READER_ONLY'
  | 'MULTI_NODE_SINGLE_WRITER'
  | 'MULTI_NODE_MULTI_WRITER'
  | 'SINGLE_NODE_SINGLE_WRITER'
  | 'SINGLE_NODE_MULTI_WRITER';

/** How a volume is used: mounted as a filesystem (`mount`) or given as a raw device (`block`). */
export interface VolumeCapability {
  accessMode?: { mode: AccessModeName };
  mount?: { fsType?: string; mountFlags?: string[]; volumeMountGroup?: string };
  block?: Record<string, never>;
}

/** NodeStageVolume's request: the volume mounted once per node at `stagingTargetPath`. */
export interface NodeStageVolumeRequest {
  volumeId: string;
  publishContext?: Record<string, string>;
  stagingTargetPath: string;
  volumeCapability: VolumeCapability;
  secrets?: Record<string, string>;
  volumeContext?: Record<string, string>;
}

/** NodeUnstageVolume's request: undoes NodeStageVolume. */
export interface NodeUnstageVolumeRequest {
  volumeId: string;
  stagingTargetPath: string;
}

/** NodePublishVolume's request: the volume made available to one pod at `targetPath`. */
export interface NodePublishVolumeRequest {
  volumeId: string;
  publishContext?: Record<string, string>;
  stagingTargetPath?: string;
  targetPath: string;
  volumeCapability: VolumeCapability;
  readonly?: boolean;
  secrets?: Record<string, string>;
  volumeContext?: Record<string, string>;
}

/** NodeUnpublishVolume's request: undoes NodePublishVolume. */
export interface NodeUnpublishVolumeRequest {
  volumeId: string;
  targetPath: string;
}

/** NodeGetVolumeStats's request: the volume by its id and the path it is published at. */
export interface NodeGetVolumeStatsRequest {
  volumeId: string;
  volumePath: string;
  stagingTargetPath?: string;
}

/** One VolumeUsage entry: `unit` is BYTES or INODES. */
export interface VolumeUsage {
  available: number;
  total: number;
  used: number;
  unit: 'UNKNOWN' | 'BYTES' | 'INODES';
}

/** NodeGetVolumeStats's answer: usage in bytes and inodes, and the volume's condition when the driver reports one. */
export interface NodeGetVolumeStatsResponse {
  usage: VolumeUsage[];
  volumeCondition: { abnormal: boolean; message: string } | null;
}

/** NodeExpandVolume's request: grow the volume's filesystem on the node after the claim grew. */
export interface NodeExpandVolumeRequest {
  volumeId: string;
  volumePath: string;
  capacityRange?: { requiredBytes: number; limitBytes?: number };
  stagingTargetPath?: string;
  volumeCapability?: VolumeCapability;
  secrets?: Record<string, string>;
}

/** NodeGetInfo's answer: the node id the driver knows this node by, its volume limit and topology. */
export interface NodeGetInfoResponse {
  nodeId: string;
  /** 0: the driver sets no limit. */
  maxVolumesPerNode: number;
  accessibleTopology: { segments: Record<string, string> } | null;
}

/** GetPluginInfo's answer: the driver's name and version. */
export interface GetPluginInfoResponse {
  name: string;
  vendorVersion: string;
  manifest: Record<string, string>;
}

/** A PluginCapability: the services a driver offers (one of the two is set). */
export interface PluginCapability {
  service?: { type: string };
  volumeExpansion?: { type: string };
}

/** NodeServiceCapability.RPC.Type by name (STAGE_UNSTAGE_VOLUME, GET_VOLUME_STATS...). */
export type NodeCapabilityName =
  | 'UNKNOWN'
  | 'STAGE_UNSTAGE_VOLUME'
  | 'GET_VOLUME_STATS'
  | 'EXPAND_VOLUME'
  | 'VOLUME_CONDITION'
  | 'SINGLE_NODE_MULTI_WRITER'
  | 'VOLUME_MOUNT_GROUP';
