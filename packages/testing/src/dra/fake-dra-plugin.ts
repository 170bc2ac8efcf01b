import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerUnaryCall, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import { type KubeConfig, ResourceV1Api } from '@kubernetes/client-node';
import { type PluginServer, servePlugin } from '@nodeagent/csi-client';
import {
  type Claim,
  type DraDevice,
  draHealthV1alpha1Service,
  draV1beta1Service,
  draV1Service,
  type HealthStatus,
  type NodePrepareResourceResponse,
  type NodeWatchResourcesResponse,
  type RegistrationStatus,
  registrationV1Service,
} from '@nodeagent/plugin-api';
import { cdiDeviceId, cdiSpecPath, removeCdiSpec, writeCdiSpec } from './cdi-spec';
import { type CanonicalMessage, canonicalMessage, type DraExchangeEntry } from './dra-exchange';
import { type PublishedDevice, ResourceSlicePublisher } from './resource-slice-publisher';

/** What upstream's test driver announces (GetInfo's supported_versions, as recorded). */
export const DRA_SUPPORTED_VERSIONS = [
  'v1.DRAPlugin',
  'v1beta1.DRAPlugin',
  'v1alpha1.DRAResourceHealth',
] as const;

/** Options for {@link FakeDraPlugin.start}. */
export interface FakeDraPluginOptions {
  /** The driver name, e.g. `test-driver.cdi.k8s.io`. */
  driverName: string;
  /** The node the plugin runs on: its ResourceSlice's nodeName and pool name. */
  nodeName: string;
  /** The kubelet's `--root-dir`: registration under `plugins_registry/`, the service under `plugins/<driver>/`. */
  rootDir: string;
  /** Where prepared claims' CDI specs are written (the runtime's CDI spec directory). */
  cdiDir: string;
  /** The API server the plugin publishes its ResourceSlice to and reads claims from. */
  kubeConfig: KubeConfig;
  /** The devices to publish: a count (`device-00`, `device-01`, ...) or full entries. Default 1. */
  devices?: number | readonly PublishedDevice[];
  /** Publish the ResourceSlice at start (default true). */
  publishSlice?: boolean;
  /**
   * GetInfo's supported_versions, and the services served (`v1.DRAPlugin`, `v1beta1.DRAPlugin`,
   * `v1alpha1.DRAResourceHealth`; others are only announced); default {@link DRA_SUPPORTED_VERSIONS}.
   */
  supportedVersions?: readonly string[];
  /** The clock of the health stream's `last_updated_time`; default the wall clock. */
  now?: () => Date;
}

/** A fault for the next call of one method: a gRPC error status, no answer at all, or an error inside the answer for every claim. */
export type DraFault = { code: number; message: string } | 'hang' | { claimError: string };

/** The methods a fault can be set for. */
export type DraFaultMethod =
  | 'GetInfo'
  | 'NotifyRegistrationStatus'
  | 'NodePrepareResources'
  | 'NodeUnprepareResources';

/** One call the plugin handled, as its log records it. */
export interface RecordedDraCall {
  logger: 'registrar' | 'dra';
  /** The full method path, e.g. `/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources`. */
  method: string;
  /** The decoded request (absent for a stream). */
  request?: object;
  /** The answer sent; absent when the call failed or hangs. */
  response?: object;
  /** The status the call failed with. */
  error?: { code: number; message: string };
  stream?: boolean;
}

const INTERNAL = 13;
const REGISTRATION = '/pluginregistration.Registration';
const V1 = '/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin';
const V1BETA1 = '/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin';
const HEALTH = '/v1alpha1.DRAResourceHealth/NodeWatchResources';

/**
 * A DRA kubelet plugin for tests, answering as upstream's DRA test driver
 * (test/e2e/dra/test-driver) does: it serves the plugin registration API on
 * `<root-dir>/plugins_registry/<driver>-reg.sock` (GetInfo type `DRAPlugin`, endpoint
 * `<root-dir>/plugins/<driver>/dra.sock`) and, on that endpoint, DRAPlugin v1 and v1beta1 and the
 * v1alpha1 health stream. It publishes a ResourceSlice for its node; NodePrepareResources reads
 * each claim from the API server, writes a CDI spec (kind `<driver>/test`, a device
 * `claim-<uid>-<request>` per request) and answers each allocated device of this driver with
 * that CDI ID; NodeUnprepareResources removes the spec. Every call is recorded in the
 * recording's terms, and a call can be made to fail or hang.
 */
export class FakeDraPlugin {
  /** Every call in arrival order. */
  readonly calls: RecordedDraCall[] = [];
  /** The kubelet's NotifyRegistrationStatus verdicts. */
  readonly registrationStatuses: RegistrationStatus[] = [];
  /** Claim UID → the devices answered for it, for claims prepared now. */
  readonly prepared = new Map<string, DraDevice[]>();
  private readonly faults = new Map<DraFaultMethod, DraFault[]>();
  private readonly health = new Map<string, { health: HealthStatus; at: number }>();
  private readonly streams = new Set<ServerWritableStream<object, NodeWatchResourcesResponse>>();
  private readonly claims: ResourceV1Api;
  private readonly slices: ResourceSlicePublisher;
  private readonly devices: PublishedDevice[];
  private servers: PluginServer[] = [];

  private constructor(readonly opts: FakeDraPluginOptions) {
    this.claims = opts.kubeConfig.makeApiClient(ResourceV1Api);
    this.slices = new ResourceSlicePublisher(opts.kubeConfig, opts.driverName, opts.nodeName);
    const devices = opts.devices ?? 1;
    this.devices =
      typeof devices === 'number'
        ? Array.from({ length: devices }, (_, i) => ({ name: `device-${String(i).padStart(2, '0')}` }))
        : devices.map((d) => ({ ...d }));
    const now = this.seconds();
    for (const d of this.devices) this.health.set(d.name, { health: 'HEALTHY', at: now });
  }

  /** The registration socket: `<root-dir>/plugins_registry/<driver>-reg.sock`. */
  get registrationSocket(): string {
    return join(this.opts.rootDir, 'plugins_registry', `${this.opts.driverName}-reg.sock`);
  }

  /** The service socket GetInfo names: `<root-dir>/plugins/<driver>/dra.sock`. */
  get endpoint(): string {
    return join(this.opts.rootDir, 'plugins', this.opts.driverName, 'dra.sock');
  }

  /** The published ResourceSlice's name (once published). */
  get sliceName(): string | undefined {
    return this.slices.sliceName;
  }

  /** Start serving (the service first, then registration, so the kubelet never finds a dead endpoint) and publish the slice. */
  static async start(opts: FakeDraPluginOptions): Promise<FakeDraPlugin> {
    const plugin = new FakeDraPlugin(opts);
    await mkdir(join(opts.rootDir, 'plugins', opts.driverName), { recursive: true });
    await mkdir(join(opts.rootDir, 'plugins_registry'), { recursive: true });
    try {
      if (opts.publishSlice ?? true) await plugin.publishSlice();
      // Only the services GetInfo announces are served, as a driver built for fewer versions.
      const versions = new Set(opts.supportedVersions ?? DRA_SUPPORTED_VERSIONS);
      const services = [
        { version: 'v1.DRAPlugin', definition: draV1Service, implementation: plugin.draService(V1) },
        {
          version: 'v1beta1.DRAPlugin',
          definition: draV1beta1Service,
          implementation: plugin.draService(V1BETA1),
        },
        {
          version: 'v1alpha1.DRAResourceHealth',
          definition: draHealthV1alpha1Service,
          implementation: { NodeWatchResources: plugin.watch() },
        },
      ].filter((s) => versions.has(s.version));
      plugin.servers.push(await servePlugin(plugin.endpoint, services));
      plugin.servers.push(
        await servePlugin(plugin.registrationSocket, [
          { definition: registrationV1Service, implementation: plugin.registration() },
        ]),
      );
    } catch (err) {
      await plugin.stop();
      throw err;
    }
    return plugin;
  }

  /** Answer the next call of `method` with `fault` instead. */
  failNext(method: DraFaultMethod, fault: DraFault): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), fault]);
  }

  /** Set a device's health; every open NodeWatchResources stream gets the full list again. */
  setHealth(deviceName: string, health: HealthStatus): void {
    if (!this.health.has(deviceName))
      throw new RangeError(`FakeDraPlugin: no device ${JSON.stringify(deviceName)}`);
    this.health.set(deviceName, { health, at: this.seconds() });
    const answer = this.healthAnswer();
    for (const s of this.streams) s.write(answer);
  }

  /** Mark a device unhealthy (see {@link setHealth}). */
  markUnhealthy(deviceName: string): void {
    this.setHealth(deviceName, 'UNHEALTHY');
  }

  /** Publish (or republish) the ResourceSlice with the plugin's devices. */
  async publishSlice(): Promise<void> {
    await this.slices.publish(this.devices);
  }

  /** Delete the ResourceSlice. */
  async unpublishSlice(): Promise<void> {
    await this.slices.unpublish();
  }

  /** Where a claim's CDI spec is written. */
  cdiSpecPath(claimUid: string): string {
    return cdiSpecPath(this.opts.cdiDir, this.opts.driverName, claimUid);
  }

  /**
   * The calls in the recording's comparable shape (dra-exchange.ts), the kubelet's root directory
   * written `<root-dir>`: compare with `parseDraExchange` of the recorded file.
   */
  exchange(): DraExchangeEntry[] {
    const root = (m: CanonicalMessage) =>
      JSON.parse(JSON.stringify(m).split(this.opts.rootDir).join('<root-dir>')) as CanonicalMessage;
    return this.calls.map((c) => {
      const e: DraExchangeEntry = { logger: c.logger, method: c.method };
      if (c.stream) e.stream = true;
      else {
        if (c.request) e.request = root(canonicalMessage(c.request));
        if (c.response) e.response = root(canonicalMessage(c.response));
      }
      return e;
    });
  }

  /** End the health streams, stop serving and remove both sockets (the ResourceSlice stays, as the kubelet removes it). */
  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    for (const s of this.servers) await s.close();
    this.servers = [];
  }

  private unary<Req extends object, Res extends object>(
    logger: RecordedDraCall['logger'],
    method: string,
    rpc: DraFaultMethod,
    answer: (req: Req, fault: { claimError: string } | undefined) => Promise<Res>,
  ) {
    return (call: ServerUnaryCall<Req, Res>, done: sendUnaryData<Res>) => {
      const record: RecordedDraCall = { logger, method, request: call.request };
      this.calls.push(record);
      const fault = this.faults.get(rpc)?.shift();
      if (fault === 'hang') return;
      if (fault && 'code' in fault) {
        record.error = { code: fault.code, message: fault.message };
        return done({ code: fault.code, details: fault.message });
      }
      answer(call.request, fault).then(
        (res) => {
          record.response = res;
          done(null, res);
        },
        (e: { code?: number; message?: string }) => {
          record.error = { code: e.code ?? INTERNAL, message: e.message ?? String(e) };
          done({ code: record.error.code, details: record.error.message });
        },
      );
    };
  }

  private registration() {
    return {
      GetInfo: this.unary('registrar', `${REGISTRATION}/GetInfo`, 'GetInfo', async () => ({
        type: 'DRAPlugin',
        name: this.opts.driverName,
        endpoint: this.endpoint,
        supportedVersions: [...(this.opts.supportedVersions ?? DRA_SUPPORTED_VERSIONS)],
      })),
      NotifyRegistrationStatus: this.unary(
        'registrar',
        `${REGISTRATION}/NotifyRegistrationStatus`,
        'NotifyRegistrationStatus',
        async (req: RegistrationStatus) => {
          this.registrationStatuses.push({ pluginRegistered: req.pluginRegistered, error: req.error });
          return {};
        },
      ),
    };
  }

  private draService(prefix: string) {
    return {
      NodePrepareResources: this.unary(
        'dra',
        `${prefix}/NodePrepareResources`,
        'NodePrepareResources',
        async (req: { claims: Claim[] }, fault) => {
          const claims: Record<string, NodePrepareResourceResponse> = {};
          for (const c of req.claims ?? []) {
            claims[c.uid] = fault
              ? { devices: [], error: fault.claimError }
              : await this.prepare(c).then(
                  (devices) => ({ devices, error: '' }),
                  (e: Error) => ({ devices: [], error: e.message }),
                );
          }
          return { claims };
        },
      ),
      NodeUnprepareResources: this.unary(
        'dra',
        `${prefix}/NodeUnprepareResources`,
        'NodeUnprepareResources',
        async (req: { claims: Claim[] }, fault) => {
          const claims: Record<string, { error: string }> = {};
          for (const c of req.claims ?? []) {
            if (fault) {
              claims[c.uid] = { error: fault.claimError };
              continue;
            }
            await removeCdiSpec(this.opts.cdiDir, this.opts.driverName, c.uid);
            this.prepared.delete(c.uid);
            claims[c.uid] = { error: '' };
          }
          return { claims };
        },
      ),
    };
  }

  /** One claim: read it, check it is the one named and allocated, write its CDI spec, answer its devices. */
  private async prepare(c: Claim): Promise<DraDevice[]> {
    const already = this.prepared.get(c.uid);
    if (already) return already;
    const claim = await this.claims
      .readNamespacedResourceClaim({ namespace: c.namespace, name: c.name })
      .catch((e: { code?: number; body?: string }) => {
        const reason =
          e.code === 404 ? `resourceclaims.resource.k8s.io "${c.name}" not found` : String(e.body ?? e);
        throw new Error(`retrieve claim ${c.namespace}/${c.name}: ${reason}`);
      });
    if (claim.metadata?.uid !== c.uid)
      throw new Error(
        `claim ${c.namespace}/${c.name}: UID ${c.uid} is not the current one (${claim.metadata?.uid})`,
      );
    const results = (claim.status?.allocation?.devices?.results ?? []).filter(
      (r) => r.driver === this.opts.driverName,
    );
    if (!claim.status?.allocation) throw new Error(`claim ${c.namespace}/${c.name} is not allocated`);
    const requests = [...new Set(results.map((r) => r.request))];
    const envName = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
    await writeCdiSpec(
      this.opts.cdiDir,
      this.opts.driverName,
      c.uid,
      requests.map((request) => ({
        request,
        env: [
          `claim_${envName(c.name)}_${envName(request)}=true`,
          ...results
            .filter((r) => r.request === request)
            .map((r) => `${envName(request)}_${envName(r.device)}=${r.pool}/${r.device}`),
        ],
      })),
    );
    const devices = results.map((r) => ({
      requestNames: [r.request],
      poolName: r.pool,
      deviceName: r.device,
      cdiDeviceIds: [cdiDeviceId(this.opts.driverName, c.uid, r.request)],
    }));
    this.prepared.set(c.uid, devices);
    return devices;
  }

  private seconds(): number {
    return Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
  }

  private healthAnswer(): NodeWatchResourcesResponse {
    return {
      devices: [...this.health].map(([deviceName, h]) => ({
        device: { poolName: this.opts.nodeName, deviceName },
        health: h.health,
        lastUpdatedTime: h.at,
      })),
    };
  }

  private watch() {
    return (call: ServerWritableStream<object, NodeWatchResourcesResponse>) => {
      this.calls.push({ logger: 'dra', method: HEALTH, stream: true });
      this.streams.add(call);
      call.on('cancelled', () => this.streams.delete(call));
      call.write(this.healthAnswer());
    };
  }
}
