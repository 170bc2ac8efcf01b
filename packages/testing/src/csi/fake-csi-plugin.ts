import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { csiServiceDefinition, csiWireJson, type PluginServer, servePlugin } from '@nodeagent/csi-client';
import { type CsiVolumeMounter, directoryOnlyMounter } from './csi-volume-mounter';

const run = promisify(execFile);

/** gRPC status codes the plugin answers with (numbers as on the wire). */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

/** The hostpath driver's Node capabilities besides STAGE_UNSTAGE_VOLUME (the recorded exchange's). */
const HOSTPATH_NODE_CAPABILITIES = [
  'VOLUME_CONDITION',
  'GET_VOLUME_STATS',
  'SINGLE_NODE_MULTI_WRITER',
  'EXPAND_VOLUME',
];

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
  /**
   * The Node service's capabilities besides STAGE_UNSTAGE_VOLUME; default the hostpath driver's
   * (VOLUME_CONDITION, GET_VOLUME_STATS, SINGLE_NODE_MULTI_WRITER, EXPAND_VOLUME). Add
   * VOLUME_MOUNT_GROUP for a driver that applies the pod's fsGroup itself.
   */
  nodeCapabilities?: string[];
  /** The socket's path; default `csi.sock` in a new temporary directory. */
  socketPath?: string;
  /** Where volumes keep their data; default a new temporary directory. */
  stateDir?: string;
  /** How volumes appear at their paths; default {@link directoryOnlyMounter}. */
  mounter?: CsiVolumeMounter;
  /**
   * The device number a block volume is published as: NodePublishVolume with a block capability
   * makes a block device node (mknod, root only) with these numbers at the target path, a file in
   * the test's directory and no mount. Default 7:0 (the first loop device's numbers); nothing is
   * attached to it.
   */
  blockDevice?: { major: number; minor: number };
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
  /** The secrets each call carried (the log shows them as `***stripped***`, as the drivers log). */
  readonly secrets: { rpc: string; secrets: Record<string, string> }[] = [];
  /** Volume ID → the size in bytes of its last NodeExpandVolume. */
  readonly expanded = new Map<string, number>();
  /** Volumes published with a block capability: the hostpath driver's block access type. */
  private readonly blockVolumes = new Set<string>();
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
      const request = csiWireJson(`${rpc}Request`, call.request) as Record<string, unknown>;
      // As the Go drivers log through protosanitizer: secrets never in the log, kept aside for tests.
      if (request.secrets) {
        this.secrets.push({ rpc, secrets: request.secrets as Record<string, string> });
        request.secrets = '***stripped***';
      }
      this.calls.push({ method: `/csi.v1.${service}/${rpc}`, request });
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
          ...(this.opts.nodeCapabilities ?? HOSTPATH_NODE_CAPABILITIES),
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
        if ((req.volumeCapability as { block?: unknown }).block) {
          // As the hostpath driver: the target's directory is the kubelet's, the device file the driver's.
          const { major, minor } = this.opts.blockDevice ?? { major: 7, minor: 0 };
          await run('mknod', ['-m', '0660', req.targetPath as string, 'b', String(major), String(minor)]);
          this.blockVolumes.add(req.volumeId as string);
        } else {
          await this.mounter.bind(this.volumeDir(req.volumeId as string), req.targetPath as string);
        }
        this.published.set(req.targetPath as string, req.volumeId as string);
        return {};
      }),
      NodeUnpublishVolume: this.handler('Node', 'NodeUnpublishVolume', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        required(req.targetPath, 'Target path missing in request');
        if (!this.published.has(req.targetPath as string)) return {};
        const info = await lstat(req.targetPath as string).catch(() => undefined);
        if (info?.isBlockDevice()) await rm(req.targetPath as string, { force: true });
        else await this.mounter.unbind(req.targetPath as string);
        this.published.delete(req.targetPath as string);
        return {};
      }),
      NodeGetVolumeStats: this.handler('Node', 'NodeGetVolumeStats', async (req) => {
        required(req.volumeId, 'Volume ID missing in request');
        required(req.volumePath, 'NodeGetVolumeStats Volume Path must be provided');
        const known = [...this.published.values()].includes(req.volumeId as string);
        if (!known) throw Object.assign(new Error(`volume ${req.volumeId} not found`), { code: NOT_FOUND });
        const info = await stat(req.volumePath as string).catch((e: Error) => {
          throw Object.assign(
            new Error(`Could not get file information from ${req.volumePath}: ${e.message}`),
            { code: NOT_FOUND },
          );
        });
        const volumeCondition = this.conditions.get(req.volumeId as string) ?? {
          abnormal: false,
          message: 'volume is healthy',
        };
        // A block device has no filesystem to count free bytes or inodes in: only its size, the
        // one VolumeUsage field the CSI spec requires (total).
        if (info.isBlockDevice())
          return {
            usage: [{ unit: 'BYTES', total: this.expanded.get(req.volumeId as string) ?? 1 << 30 }],
            volumeCondition,
          };
        return {
          usage: [
            { unit: 'BYTES', total: 1 << 30, used: 4096, available: (1 << 30) - 4096 },
            { unit: 'INODES', total: 65536, used: 2, available: 65534 },
          ],
          volumeCondition,
        };
      }),
      NodeExpandVolume: this.handler('Node', 'NodeExpandVolume', async (req) => {
        required(req.volumeId, 'Volume ID not provided');
        required(req.volumePath, 'volume path not provided');
        const range = req.capacityRange as { requiredBytes?: number | string } | undefined;
        required(range, 'Capacity range not provided');
        const info = await stat(req.volumePath as string).catch((e: Error) => {
          throw Object.assign(
            new Error(`Could not get file information from ${req.volumePath}: ${e.message}`),
            { code: INVALID_ARGUMENT },
          );
        });
        // As the hostpath driver: the path must be what the volume was published as.
        const block = this.blockVolumes.has(req.volumeId as string);
        if (block && !info.isBlockDevice())
          throw Object.assign(new Error(`Volume ${req.volumeId} is not a block device`), {
            code: INVALID_ARGUMENT,
          });
        if (!block && !info.isDirectory())
          throw Object.assign(new Error(`Volume ${req.volumeId} is not a directory`), {
            code: INVALID_ARGUMENT,
          });
        this.expanded.set(req.volumeId as string, Number(range?.requiredBytes ?? 0));
        // The hostpath driver answers with no capacity (the kubelet takes the requested size).
        return {};
      }),
    };
  }
}

function required(value: unknown, message: string): void {
  if (value === undefined || value === null || value === '')
    throw Object.assign(new Error(message), { code: INVALID_ARGUMENT });
}
