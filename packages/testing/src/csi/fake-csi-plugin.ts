import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { csiServiceDefinition, csiWireJson, type PluginServer, servePlugin } from '@nodeagent/csi-client';
import { type CsiVolumeMounter, directoryOnlyMounter } from './csi-volume-mounter';

/** gRPC status codes the plugin answers with (numbers as on the wire). */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

/** One call the plugin received: the method path and the request as Go drivers log it. */
export interface RecordedCsiCall {
  /** `/csi.v1.Node/NodePublishVolume` */
  method: string;
  request: unknown;
}

/** Options for {@link FakeCsiPlugin.start}. */
export interface FakeCsiPluginOptions {
  /** The driver name (GetPluginInfo's name), e.g. `hostpath.csi.k8s.io`. */
  driverName: string;
  /** NodeGetInfo's node_id. */
  nodeId: string;
  /** NodeGetInfo's accessible_topology segments; none by default. */
  topology?: Record<string, string>;
  /** NodeGetInfo's max_volumes_per_node; 0 (no limit) by default. */
  maxVolumesPerNode?: number;
  /** Whether the Node service has STAGE_UNSTAGE_VOLUME (default true, as the hostpath driver). */
  stageUnstage?: boolean;
  /** The socket's path; default `csi.sock` in a new temporary directory. */
  socketPath?: string;
  /** Where volumes keep their data; default a new temporary directory. */
  stateDir?: string;
  /** How volumes appear at their paths; default {@link directoryOnlyMounter}. */
  mounter?: CsiVolumeMounter;
}

/** A fault for the next call of one method: an error status, or no answer at all. */
export type CsiFault = { code: number; message: string } | 'hang';

type Req = Record<string, unknown> & {
  volumeId?: string;
  targetPath?: string;
  stagingTargetPath?: string;
  volumeCapability?: unknown;
};

/**
 * A CSI node plugin for tests: the Identity and Node services of CSI spec v1 over gRPC on a unix
 * socket, answering as kubernetes-csi's hostpath driver does (the same capabilities, the same
 * checks on missing fields, idempotent unpublish and unstage), recording every call with its
 * request in the hostpath driver's log format so a test compares it with a recorded upstream
 * exchange. Volumes are directories under `stateDir`, made visible at staging and target paths by
 * the injected mounter.
 */
export class FakeCsiPlugin {
  /** Every call in arrival order. */
  readonly calls: RecordedCsiCall[] = [];
  /** Volume ID → staging path, for volumes staged now. */
  readonly staged = new Map<string, string>();
  /** Target path → volume ID, for volumes published now. */
  readonly published = new Map<string, string>();
  private readonly faults = new Map<string, CsiFault[]>();
  private readonly conditions = new Map<string, { abnormal: boolean; message: string }>();
  private server: PluginServer | undefined;
  private tempDir: string | undefined;

  private constructor(
    readonly opts: FakeCsiPluginOptions,
    readonly socketPath: string,
    readonly stateDir: string,
    private readonly mounter: CsiVolumeMounter,
  ) {}

  /** Start serving on the socket. */
  static async start(opts: FakeCsiPluginOptions): Promise<FakeCsiPlugin> {
    let tempDir: string | undefined;
    if (!opts.socketPath || !opts.stateDir) tempDir = await mkdtemp(join(tmpdir(), 'na-fake-csi-'));
    const socketPath = opts.socketPath ?? join(tempDir as string, 'csi.sock');
    const stateDir = opts.stateDir ?? join(tempDir as string, 'csi-state');
    await mkdir(stateDir, { recursive: true });
    const plugin = new FakeCsiPlugin(opts, socketPath, stateDir, opts.mounter ?? directoryOnlyMounter);
    plugin.tempDir = tempDir;
    plugin.server = await servePlugin(socketPath, [
      { definition: csiServiceDefinition('Identity'), implementation: plugin.identity() },
      { definition: csiServiceDefinition('Node'), implementation: plugin.node() },
    ]);
    return plugin;
  }

  /** The socket as an endpoint (`unix:///...`). */
  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  /** Answer the next call of `rpc` (e.g. `NodeStageVolume`) with `fault` instead. */
  failNext(rpc: string, fault: CsiFault): void {
    const list = this.faults.get(rpc) ?? [];
    list.push(fault);
    this.faults.set(rpc, list);
  }

  /** NodeGetVolumeStats of `volumeId` reports `condition` as its VolumeCondition from now on (default healthy). */
  setVolumeCondition(volumeId: string, condition: { abnormal: boolean; message: string }): void {
    this.conditions.set(volumeId, condition);
  }

  /** The calls of the Node and Identity services as `[method, request]`, for comparing. */
  exchange(): [string, unknown][] {
    return this.calls.map((c) => [c.method, c.request]);
  }

  /** Where a volume's data lives. */
  volumeDir(volumeId: string): string {
    return join(this.stateDir, volumeId);
  }

  /** Stop serving and remove the socket (and the temporary directory it made). */
  async stop(): Promise<void> {
    await this.server?.close();
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
  }

  private handler(service: string, rpc: string, answer: (req: Req) => Promise<object>) {
    return (call: ServerUnaryCall<Req, object>, done: sendUnaryData<object>) => {
      this.calls.push({
        method: `/csi.v1.${service}/${rpc}`,
        request: csiWireJson(`${rpc}Request`, call.request),
      });
      const fault = this.faults.get(rpc)?.shift();
      if (fault === 'hang') return;
      if (fault) return done({ code: fault.code, details: fault.message });
      answer(call.request).then(
        (res) => done(null, res),
        (e: { code?: number; message?: string }) =>
          done({ code: e.code ?? 2, details: e.message ?? String(e) }),
      );
    };
  }

  private identity() {
    return {
      GetPluginInfo: this.handler('Identity', 'GetPluginInfo', async () => ({
        name: this.opts.driverName,
        vendorVersion: 'nodeagent-fake',
      })),
      Probe: this.handler('Identity', 'Probe', async () => ({})),
      GetPluginCapabilities: this.handler('Identity', 'GetPluginCapabilities', async () => ({
        capabilities: this.opts.topology ? [{ service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' } }] : [],
      })),
    };
  }

  private node() {
    const stage = this.opts.stageUnstage ?? true;
    return {
      NodeGetInfo: this.handler('Node', 'NodeGetInfo', async () => ({
        nodeId: this.opts.nodeId,
        maxVolumesPerNode: this.opts.maxVolumesPerNode ?? 0,
        accessibleTopology: this.opts.topology ? { segments: this.opts.topology } : null,
      })),
      NodeGetCapabilities: this.handler('Node', 'NodeGetCapabilities', async () => ({
        capabilities: [
          ...(stage ? ['STAGE_UNSTAGE_VOLUME'] : []),
          'VOLUME_CONDITION',
          'GET_VOLUME_STATS',
          'SINGLE_NODE_MULTI_WRITER',
          'EXPAND_VOLUME',
        ].map((type) => ({ rpc: { type } })),
      })),
      NodeStageVolume: this.handler('Node', 'NodeStageVolume', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        required(req.stagingTargetPath, 'Staging target path missing in request');
        required(req.volumeCapability, 'Volume Capability missing in request');
        const already = this.staged.get(req.volumeId as string);
        if (already === req.stagingTargetPath) return {};
        await mkdir(this.volumeDir(req.volumeId as string), { recursive: true });
        await this.mounter.bind(this.volumeDir(req.volumeId as string), req.stagingTargetPath as string);
        this.staged.set(req.volumeId as string, req.stagingTargetPath as string);
        return {};
      }),
      NodeUnstageVolume: this.handler('Node', 'NodeUnstageVolume', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        required(req.stagingTargetPath, 'Staging target path missing in request');
        if (this.staged.get(req.volumeId as string) !== req.stagingTargetPath) return {};
        await this.mounter.unbind(req.stagingTargetPath as string);
        this.staged.delete(req.volumeId as string);
        return {};
      }),
      NodePublishVolume: this.handler('Node', 'NodePublishVolume', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        required(req.targetPath, 'Target path missing in request');
        required(req.volumeCapability, 'Volume capability missing in request');
        const ephemeral =
          (req.volumeContext as Record<string, string> | undefined)?.['csi.storage.k8s.io/ephemeral'] ===
          'true';
        if (stage && !ephemeral && this.staged.get(req.volumeId as string) !== req.stagingTargetPath)
          throw Object.assign(new Error(`volume ${req.volumeId} is not staged at ${req.stagingTargetPath}`), {
            code: FAILED_PRECONDITION,
          });
        if (this.published.get(req.targetPath as string) === req.volumeId) return {};
        await mkdir(this.volumeDir(req.volumeId as string), { recursive: true });
        await this.mounter.bind(this.volumeDir(req.volumeId as string), req.targetPath as string);
        this.published.set(req.targetPath as string, req.volumeId as string);
        return {};
      }),
      NodeUnpublishVolume: this.handler('Node', 'NodeUnpublishVolume', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        required(req.targetPath, 'Target path missing in request');
        if (!this.published.has(req.targetPath as string)) return {};
        await this.mounter.unbind(req.targetPath as string);
        this.published.delete(req.targetPath as string);
        return {};
      }),
      NodeGetVolumeStats: this.handler('Node', 'NodeGetVolumeStats', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        const known = [...this.published.values()].includes(req.volumeId as string);
        if (!known) throw Object.assign(new Error(`volume ${req.volumeId} not found`), { code: NOT_FOUND });
        return {
          usage: [
            { unit: 'BYTES', total: 1 << 30, used: 4096, available: (1 << 30) - 4096 },
            { unit: 'INODES', total: 65536, used: 2, available: 65534 },
          ],
          volumeCondition: this.conditions.get(req.volumeId as string) ?? {
            abnormal: false,
            message: 'volume is healthy',
          },
        };
      }),
      NodeExpandVolume: this.handler('Node', 'NodeExpandVolume', async (req) => ({
        capacityBytes: (req.capacityRange as { requiredBytes?: number } | undefined)?.requiredBytes ?? 0,
      })),
    };
  }
}

function required(value: unknown, message: string): void {
  if (value === undefined || value === null || value === '')
    throw Object.assign(new Error(message), { code: INVALID_ARGUMENT });
}
