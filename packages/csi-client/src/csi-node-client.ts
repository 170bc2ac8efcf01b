import type {
  GetPluginInfoResponse,
  NodeCapabilityName,
  NodeExpandVolumeRequest,
  NodeGetInfoResponse,
  NodeGetVolumeStatsRequest,
  NodeGetVolumeStatsResponse,
  NodePublishVolumeRequest,
  NodeStageVolumeRequest,
  NodeUnpublishVolumeRequest,
  NodeUnstageVolumeRequest,
  PluginCapability,
} from './csi-types';
import { UnaryClient } from './unary-client';

/**
 * Upstream's kubelet bounds every CSI call it makes for a volume or a registration by
 * `csiTimeout` (pkg/volume/csi/csi_plugin.go): two minutes.
 */
export const CSI_TIMEOUT_MS = 120_000;

/** Options for {@link CsiNodeClient}. */
export interface CsiNodeClientOptions {
  /** The driver's socket: `unix:///path` or an absolute path. */
  endpoint: string;
  /** The deadline of each call unless a call names its own; default {@link CSI_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * A CSI spec v1 client for what a node agent calls: the Identity service (GetPluginInfo, Probe,
 * GetPluginCapabilities) and the Node service (NodeGetInfo, NodeGetCapabilities, stage, publish
 * and their reverse, volume stats, expansion), over gRPC on the driver's unix socket.
 */
export class CsiNodeClient {
  private readonly unary: UnaryClient;
  private readonly timeoutMs: number;

  constructor(opts: CsiNodeClientOptions) {
    this.unary = new UnaryClient(opts.endpoint, ['csi.v1.Identity', 'csi.v1.Node']);
    this.timeoutMs = opts.timeoutMs ?? CSI_TIMEOUT_MS;
  }

  /** The driver's socket as given. */
  get endpoint(): string {
    return this.unary.endpoint;
  }

  private call<T>(rpc: string, request: object, timeoutMs?: number): Promise<T> {
    return this.unary.call<T>(rpc, request, timeoutMs ?? this.timeoutMs);
  }

  /** The driver's name (e.g. `hostpath.csi.k8s.io`) and version. */
  getPluginInfo(timeoutMs?: number): Promise<GetPluginInfoResponse> {
    return this.call('GetPluginInfo', {}, timeoutMs);
  }

  /** Whether the driver is ready; a driver that leaves `ready` unset is ready (CSI spec). */
  async probe(timeoutMs?: number): Promise<boolean> {
    const res = await this.call<{ ready: { value: boolean } | null }>('Probe', {}, timeoutMs);
    return res.ready?.value ?? true;
  }

  /** The services the driver offers (CONTROLLER_SERVICE, VOLUME_ACCESSIBILITY_CONSTRAINTS...). */
  async getPluginCapabilities(timeoutMs?: number): Promise<PluginCapability[]> {
    const res = await this.call<{ capabilities: PluginCapability[] }>('GetPluginCapabilities', {}, timeoutMs);
    return res.capabilities;
  }

  /** The driver's node ID, volume limit and topology, as the kubelet writes them to CSINode. */
  nodeGetInfo(timeoutMs?: number): Promise<NodeGetInfoResponse> {
    return this.call('NodeGetInfo', {}, timeoutMs);
  }

  /** The Node service's RPC capabilities by name (STAGE_UNSTAGE_VOLUME, GET_VOLUME_STATS...). */
  async nodeGetCapabilities(timeoutMs?: number): Promise<NodeCapabilityName[]> {
    const res = await this.call<{ capabilities: { rpc: { type: NodeCapabilityName } | null }[] }>(
      'NodeGetCapabilities',
      {},
      timeoutMs,
    );
    return res.capabilities.flatMap((c) => (c.rpc ? [c.rpc.type] : []));
  }

  /** Mount the volume at its node-global staging path. */
  async nodeStageVolume(req: NodeStageVolumeRequest, timeoutMs?: number): Promise<void> {
    await this.call('NodeStageVolume', req, timeoutMs);
  }

  /** Undo nodeStageVolume. */
  async nodeUnstageVolume(req: NodeUnstageVolumeRequest, timeoutMs?: number): Promise<void> {
    await this.call('NodeUnstageVolume', req, timeoutMs);
  }

  /** Make the volume available at the pod's target path. */
  async nodePublishVolume(req: NodePublishVolumeRequest, timeoutMs?: number): Promise<void> {
    await this.call('NodePublishVolume', req, timeoutMs);
  }

  /** Undo nodePublishVolume. */
  async nodeUnpublishVolume(req: NodeUnpublishVolumeRequest, timeoutMs?: number): Promise<void> {
    await this.call('NodeUnpublishVolume', req, timeoutMs);
  }

  /** Bytes and inodes used and free, and the volume's condition when the driver reports one. */
  nodeGetVolumeStats(
    req: NodeGetVolumeStatsRequest,
    timeoutMs?: number,
  ): Promise<NodeGetVolumeStatsResponse> {
    return this.call('NodeGetVolumeStats', req, timeoutMs);
  }

  /** Grow the filesystem on the node after the controller grew the volume; the new size in bytes. */
  async nodeExpandVolume(req: NodeExpandVolumeRequest, timeoutMs?: number): Promise<number> {
    const res = await this.call<{ capacityBytes: number }>('NodeExpandVolume', req, timeoutMs);
    return res.capacityBytes;
  }

  /** Close the channel. */
  close(): void {
    this.unary.close();
  }
}
