import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import type { MessageInput } from '../codec';
import { enumName } from '../enum-name';
import type { ImageServiceRpcs, RuntimeServiceRpcs } from '../generated/types';
import {
  type AuthConfig,
  type Container,
  type ContainerEventResponse,
  ContainerEventType,
  ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type Image,
  type ImageSpec,
  NamespaceMode,
  type PodSandbox,
  type PodSandboxConfig,
  PodSandboxState,
  type PodSandboxStatus,
  type RuntimeFeatures,
  type RuntimeHandler,
} from '../generated/types';
import type { UnaryTransport } from '../unary-transport';
import { criServiceDefinitions } from './fake-service';
import { FakeStreamingServer } from './fake-streaming-server';
import { isValidImageReference, withDefaultTag } from './image-reference';
import { type InProcessMethod, InProcessTransport } from './in-process-transport';
import { Ipv4Pool } from './ipv4-pool';
import { CommandNotFoundError, runCommand, type ShellResult } from './mini-shell';

/** Any CRI method name, runtime or image service, as fault injection takes it. */
export type AnyRpc = keyof RuntimeServiceRpcs | keyof ImageServiceRpcs;

/** A gRPC failure the fake should answer with. */
export interface InjectedError {
  code: number;
  details: string;
  /** How many calls fail (default: 1). Use Infinity for "until cleared". */
  times?: number;
}

/** An image the fake runtime starts with: its reference, ID, size, command and pull credentials. */
export interface FakeImageInput {
  /** Reference the image is known by, e.g. `localhost/nodeagent/busybox:1.0`. */
  ref: string;
  /** Image ID (config digest). Default: a random sha256. */
  id?: string;
  size?: bigint;
  entrypoint?: string[];
  cmd?: string[];
  /** Only for registry images: PullImage must carry these credentials. */
  auth?: { username: string; password: string };
}

/** Answers an ExecSync in place of the mini shell; undefined lets the shell run it. */
export type ExecHandler = (containerId: string, cmd: string[]) => ShellResult | undefined;

/** The fake runtime's socket, images and behaviour. */
export interface FakeRuntimeOptions {
  /** Where to listen. Default: a fresh temp dir's `cri.sock`. */
  socketPath?: string;
  /** Pod IPs come from here (default 10.88.0.0/16, containerd's default bridge range). */
  podSubnet?: string;
  /** Serve GetContainerEvents (default true). containerd 1.6 does not: set false to mimic it. */
  containerEvents?: boolean;
  /** Nanosecond wall clock (default: Date.now-based with hrtime resolution). */
  now?: () => bigint;
  runtimeName?: string;
  runtimeVersion?: string;
  /** What Version reports as runtimeApiVersion (default "v1"). */
  runtimeApiVersion?: string;
  /** Images present from the start. */
  images?: FakeImageInput[];
  /** What Status lists as `runtime_handlers` (default none, as containerd 1.6 and 1.7). */
  runtimeHandlers?: RuntimeHandler[];
  /** What Status sends as `features` (default none, as containerd 1.6 and 1.7). */
  runtimeFeatures?: RuntimeFeatures;
  /**
   * Answer UpdatePodSandboxResources for a known sandbox (recorded in `sandboxResourceUpdates`).
   * Default false: `UNIMPLEMENTED` "unknown method …", the answer of containerd 1.6.20 and 2.1.9,
   * whose CRI servers do not register the method.
   */
  podSandboxResources?: boolean;
}

/** A gate on one RPC's calls (`FakeRuntime.holdCalls`): each call waits until it is released. */
export interface CallGate {
  /** Resolves when a held call arrived (the first one after the gate was set). */
  readonly reached: Promise<void>;
  /** Lets the held calls, and every later one, go on. */
  release(): void;
}

interface SandboxRecord {
  id: string;
  config: PodSandboxConfig;
  nameKey: string;
  state: PodSandboxState;
  createdAt: bigint;
  ip: string;
  runtimeHandler: string;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  nameKey: string;
  name: string;
  attempt: number;
  image: ImageSpec;
  imageRef: string;
  state: ContainerState;
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
  argv: string[];
  ignoreSigterm: boolean;
  mounts: ContainerStatus['mounts'];
}

interface ImageRecord {
  image: Image;
  entrypoint: string[];
  cmd: string[];
  auth?: { username: string; password: string };
}

function randomId(): string {
  return randomBytes(32).toString('hex');
}

function defaultClock(): () => bigint {
  const wall = BigInt(Date.now()) * 1_000_000n;
  const mono = process.hrtime.bigint();
  return () => wall + (process.hrtime.bigint() - mono);
}

/** RFC 3339 with nanoseconds, as containerd writes in CRI log lines. */
function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // …T12:34:56.789Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

const notFound = (what: string) => new RpcFailure(status.NOT_FOUND, what);
const unknown = (what: string) => new RpcFailure(status.UNKNOWN, what);

/**
 * The `endpoint` of a fake made with `FakeRuntime.create()`: not a unix socket, so a client that
 * would dial it fails at once with an invalid-endpoint error rather than waiting on a socket.
 */
const IN_PROCESS_ENDPOINT = 'in-process:fake-runtime';

/**
 * An in-memory CRI runtime.v1 server on a real unix socket. Sandboxes and containers follow
 * containerd 1.6's state machine and error codes (as observed against the real thing), container
 * main processes and ExecSync run through a tiny sh stand-in, and every RPC can be scripted to fail
 * or stall. Start with `await FakeRuntime.start()`, point a CriClient at `endpoint`.
 */
export class FakeRuntime {
  /** The socket it listens on; empty for a fake made with `create()`. */
  readonly socketPath: string;
  readonly endpoint: string;
  /** RPC names in call order, for assertions. */
  readonly calls: string[] = [];
  /** Every UpdatePodSandboxResources request answered (with `podSandboxResources`), in order. */
  readonly sandboxResourceUpdates: RuntimeServiceRpcs['UpdatePodSandboxResources']['request'][] = [];

  private readonly server = new Server({
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly images = new Map<string, ImageRecord>();
  private readonly registry = new Map<string, FakeImageInput>();
  private readonly reservedNames = new Map<string, string>();
  private readonly errors = new Map<string, InjectedError[]>();
  private readonly delays = new Map<string, number>();
  private readonly gates = new Map<string, { opened: Promise<void>; arrived: () => void }>();
  private readonly subscribers = new Set<ServerWritableStream<unknown, ContainerEventResponse>>();
  private readonly pool: Ipv4Pool;
  private readonly now: () => bigint;
  private readonly pendingStops = new Set<NodeJS.Timeout>();
  private execHandler: ExecHandler | undefined;
  private readonly streaming = new FakeStreamingServer();
  /** The unary handlers by method path, for inProcessTransport(). */
  private readonly unaryMethods = new Map<string, InProcessMethod>();
  private tempDir: string | undefined;
  private podCidr = '';

  private constructor(
    socketPath: string | undefined,
    private readonly opts: FakeRuntimeOptions,
  ) {
    this.socketPath = socketPath ?? '';
    this.endpoint = socketPath === undefined ? IN_PROCESS_ENDPOINT : `unix://${socketPath}`;
    this.pool = new Ipv4Pool(opts.podSubnet ?? '10.88.0.0/16');
    this.now = opts.now ?? defaultClock();
    for (const img of opts.images ?? []) this.addImage(img);
  }

  /**
   * Create the fake without listening: no socket, no temp dir. Reach it through
   * `inProcessTransport()` only (its `endpoint` is `in-process:fake-runtime`, which no socket
   * client accepts, and its `socketPath` is empty): for many fakes in one process, which would
   * each hold a listening socket and a temp dir for nothing. GetContainerEvents needs the socket,
   * so it is not served.
   */
  static create(opts: Omit<FakeRuntimeOptions, 'socketPath'> = {}): FakeRuntime {
    const fake = new FakeRuntime(undefined, opts);
    fake.register();
    return fake;
  }

  /** Create the fake and start listening. */
  static async start(opts: FakeRuntimeOptions = {}): Promise<FakeRuntime> {
    let socketPath = opts.socketPath;
    let tempDir: string | undefined;
    if (!socketPath) {
      tempDir = await mkdtemp(join(tmpdir(), 'na-fake-cri-'));
      socketPath = join(tempDir, 'cri.sock');
    }
    const fake = new FakeRuntime(socketPath, opts);
    fake.tempDir = tempDir;
    fake.register();
    await new Promise<void>((resolve, reject) =>
      fake.server.bindAsync(fake.endpoint, ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return fake;
  }

  /** Stop serving (in-flight calls are cancelled) and remove the temp dir. */
  async stop(): Promise<void> {
    for (const t of this.pendingStops) clearTimeout(t);
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
    this.server.forceShutdown();
    await this.streaming.stop();
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------ scripting

  /** Make an image present, as if pulled or imported. Returns its ID. */
  addImage(input: FakeImageInput): string {
    const id = input.id ?? `sha256:${randomId()}`;
    const ref = withDefaultTag(input.ref);
    const existing = this.images.get(id);
    const tags = new Set(existing?.image.repoTags ?? []);
    tags.add(ref);
    // A tag points at one image: move it off any other image.
    for (const rec of this.images.values()) {
      if (rec.image.id !== id) rec.image.repoTags = rec.image.repoTags.filter((t) => t !== ref);
    }
    this.images.set(id, {
      image: {
        id,
        repoTags: [...tags],
        repoDigests: [],
        size: input.size ?? 2_000_000n,
        uid: null,
        username: '',
        spec: null,
        pinned: false,
        imageSource: '',
      },
      entrypoint: input.entrypoint ?? [],
      cmd: input.cmd ?? [],
    });
    return id;
  }

  /** Make an image pullable (optionally only with credentials). */
  addRegistryImage(input: FakeImageInput): void {
    this.registry.set(withDefaultTag(input.ref), input);
  }

  /** Fail the next `times` calls of `rpc` (default once) with the given gRPC status. */
  injectError(rpc: AnyRpc, error: InjectedError): void {
    const list = this.errors.get(rpc) ?? [];
    list.push({ ...error, times: error.times ?? 1 });
    this.errors.set(rpc, list);
  }

  /** Delay every call of `rpc` by `ms` before it is handled (0 clears). */
  injectDelay(rpc: AnyRpc, ms: number): void {
    if (ms > 0) this.delays.set(rpc, ms);
    else this.delays.delete(rpc);
  }

  /**
   * Holds every call of `rpc` open (after it is recorded in `calls`, before it acts) until the
   * gate is released: what the caller does while the runtime is still busy can be observed
   * without timing.
   */
  holdCalls(rpc: AnyRpc): CallGate {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release!: () => void;
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gates.set(rpc, { opened, arrived });
    return {
      reached,
      release: () => {
        if (this.gates.get(rpc)?.opened === opened) this.gates.delete(rpc);
        release();
      },
    };
  }

  /** Drops every injected error and delay. */
  clearInjections(): void {
    this.errors.clear();
    this.delays.clear();
  }

  /** Override ExecSync results; return undefined to fall back to the built-in sh stand-in. */
  onExecSync(handler: ExecHandler | undefined): void {
    this.execHandler = handler;
  }

  /** Make a running container's main process exit now, as if it crashed or finished. */
  exitContainer(containerId: string, exitCode: number, reason?: string): void {
    const c = this.mustContainer(containerId);
    if (c.state !== ContainerState.CONTAINER_RUNNING) return;
    this.finish(c, exitCode, reason);
  }

  /** The container's main process ignores SIGTERM: StopContainer waits its timeout, then kills (137). */
  ignoreSigterm(containerId: string, ignore = true): void {
    this.mustContainer(containerId).ignoreSigterm = ignore;
  }

  /** Number of live sandboxes / containers (for leak assertions). */
  counts(): { sandboxes: number; containers: number; images: number } {
    return { sandboxes: this.sandboxes.size, containers: this.containers.size, images: this.images.size };
  }

  // ------------------------------------------------------------------ plumbing

  private register(): void {
    const defs = criServiceDefinitions();
    const runtime = this.runtimeHandlers();
    const image = this.imageHandlers();
    this.server.addService(defs.RuntimeService, {
      ...runtime,
      GetContainerEvents: this.containerEventsHandler(),
    });
    this.server.addService(defs.ImageService, image);
    for (const [definition, handlers] of [
      [defs.RuntimeService, runtime],
      [defs.ImageService, image],
    ] as const)
      for (const [name, handler] of Object.entries(handlers)) {
        const m = definition[name] as unknown as Omit<InProcessMethod, 'handler'> & { path: string };
        this.unaryMethods.set(m.path, {
          requestDeserialize: m.requestDeserialize,
          responseSerialize: m.responseSerialize,
          handler,
        });
      }
  }

  /**
   * A transport for `createCriClient({ endpoint, transport })` that calls this fake's handlers in
   * this process (the same answers, injected errors and delays, without the socket): for many
   * fakes in one process. GetContainerEvents still needs the socket.
   */
  inProcessTransport(): UnaryTransport {
    return new InProcessTransport(this.unaryMethods);
  }

  /**
   * A unary handler for `rpc`: recorded in `calls`, delayed or failed as injected, then `fn`'s
   * answer; an RpcFailure keeps its code, anything else thrown is UNKNOWN.
   */
  private unary<Req, Res>(rpc: AnyRpc, fn: (req: Req) => Res | Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      this.calls.push(rpc);
      void this.intercept(rpc)
        .then(() => fn(call.request))
        .then(
          (res) => callback(null, res),
          (e: unknown) => {
            if (e instanceof RpcFailure) callback({ code: e.code, details: e.details });
            else callback({ code: status.UNKNOWN, details: e instanceof Error ? e.message : String(e) });
          },
        );
    };
  }

  /** The RuntimeService's unary methods, by gRPC method name. */
  // biome-ignore lint/suspicious/noExplicitAny: handler maps are heterogeneous by design
  private runtimeHandlers(): Record<string, any> {
    return {
      Version: this.unary('Version', () => ({
        version: '0.1.0',
        runtimeName: this.opts.runtimeName ?? 'fake',
        runtimeVersion: this.opts.runtimeVersion ?? '0.1.0',
        runtimeApiVersion: this.opts.runtimeApiVersion ?? 'v1',
      })),
      Status: this.unary('Status', (req: { verbose: boolean }) => ({
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true, reason: '', message: '' },
            { type: 'NetworkReady', status: true, reason: '', message: '' },
          ],
        },
        info: req.verbose ? { config: JSON.stringify({ podCIDR: this.podCidr, fake: true }) } : {},
        runtimeHandlers: this.opts.runtimeHandlers ?? [],
        features: this.opts.runtimeFeatures ?? null,
      })),
      RuntimeConfig: this.unary('RuntimeConfig', () => ({ linux: { cgroupDriver: 1 } })),
      UpdateRuntimeConfig: this.unary(
        'UpdateRuntimeConfig',
        (req: { runtimeConfig: { networkConfig: { podCidr: string } | null } | null }) => {
          this.podCidr = req.runtimeConfig?.networkConfig?.podCidr ?? '';
          return {};
        },
      ),
      RunPodSandbox: this.unary(
        'RunPodSandbox',
        (req: { config: PodSandboxConfig | null; runtimeHandler: string }) => this.runPodSandbox(req),
      ),
      StopPodSandbox: this.unary('StopPodSandbox', (req: { podSandboxId: string }) =>
        this.stopPodSandbox(req.podSandboxId),
      ),
      RemovePodSandbox: this.unary('RemovePodSandbox', (req: { podSandboxId: string }) =>
        this.removePodSandbox(req.podSandboxId),
      ),
      PodSandboxStatus: this.unary('PodSandboxStatus', (req: { podSandboxId: string; verbose: boolean }) => {
        const s = this.mustSandbox(req.podSandboxId, `an error occurred when try to find sandbox: not found`);
        return {
          status: this.sandboxStatus(s),
          info: req.verbose ? { info: JSON.stringify({ pid: 0, fake: true }) } : {},
          containersStatuses: [],
          timestamp: 0n,
        };
      }),
      ListPodSandbox: this.unary(
        'ListPodSandbox',
        (req: MessageInput<RuntimeServiceRpcs['ListPodSandbox']['request']>) => ({
          items: this.listSandboxes(req),
        }),
      ),
      CreateContainer: this.unary(
        'CreateContainer',
        (req: RuntimeServiceRpcs['CreateContainer']['request']) => this.createContainer(req),
      ),
      StartContainer: this.unary('StartContainer', (req: { containerId: string }) =>
        this.startContainer(req.containerId),
      ),
      StopContainer: this.unary('StopContainer', (req: { containerId: string; timeout: bigint }) =>
        this.stopContainer(req.containerId, req.timeout),
      ),
      RemoveContainer: this.unary('RemoveContainer', (req: { containerId: string }) =>
        this.removeContainer(req.containerId),
      ),
      ListContainers: this.unary(
        'ListContainers',
        (req: RuntimeServiceRpcs['ListContainers']['request']) => ({
          containers: this.listContainers(req),
        }),
      ),
      ContainerStatus: this.unary('ContainerStatus', (req: { containerId: string; verbose: boolean }) => {
        const c = this.mustContainer(req.containerId);
        return {
          status: this.containerStatus(c),
          info: req.verbose ? { info: JSON.stringify({ fake: true }) } : {},
        };
      }),
      UpdateContainerResources: this.unary('UpdateContainerResources', (req: { containerId: string }) => {
        this.mustContainer(req.containerId);
        return {};
      }),
      ReopenContainerLog: this.unary('ReopenContainerLog', (req: { containerId: string }) => {
        const c = this.mustContainer(req.containerId);
        if (c.state !== ContainerState.CONTAINER_RUNNING) throw unknown('container is not running');
        return {};
      }),
      ExecSync: this.unary('ExecSync', (req: { containerId: string; cmd: string[] }) =>
        this.execSync(req.containerId, req.cmd),
      ),
      Exec: this.unary(
        'Exec',
        (req: { containerId: string; cmd: string[]; stdout: boolean; stderr: boolean }) => this.exec(req),
      ),
      ContainerStats: this.unary('ContainerStats', (req: { containerId: string }) => {
        const c = this.mustContainer(req.containerId);
        if (c.state !== ContainerState.CONTAINER_RUNNING) throw unknown('unexpected metrics response: []');
        return { stats: this.containerStats(c) };
      }),
      ListContainerStats: this.unary('ListContainerStats', () => ({
        stats: [...this.containers.values()]
          .filter((c) => c.state === ContainerState.CONTAINER_RUNNING)
          .map((c) => this.containerStats(c)),
      })),
      UpdatePodSandboxResources: this.unary(
        'UpdatePodSandboxResources',
        (req: RuntimeServiceRpcs['UpdatePodSandboxResources']['request']) => {
          if (!this.opts.podSandboxResources)
            throw new RpcFailure(
              status.UNIMPLEMENTED,
              'unknown method UpdatePodSandboxResources for service runtime.v1.RuntimeService',
            );
          this.mustSandbox(req.podSandboxId);
          this.sandboxResourceUpdates.push(req);
          return {};
        },
      ),
      CheckpointContainer: this.unary('CheckpointContainer', (req: { containerId: string }) => {
        this.mustContainer(req.containerId);
        throw new RpcFailure(status.UNIMPLEMENTED, 'method CheckpointContainer not implemented');
      }),
    };
  }

  /** GetContainerEvents: a subscription to container events, or UNIMPLEMENTED when the options turn them off. */
  private containerEventsHandler(): (stream: ServerWritableStream<unknown, ContainerEventResponse>) => void {
    if (this.opts.containerEvents ?? true) {
      return (stream) => {
        this.calls.push('GetContainerEvents');
        this.subscribers.add(stream);
        stream.on('cancelled', () => this.subscribers.delete(stream));
        stream.on('close', () => this.subscribers.delete(stream));
      };
    }
    return (stream) => {
      this.calls.push('GetContainerEvents');
      stream.emit('error', {
        code: status.UNIMPLEMENTED,
        details: 'method GetContainerEvents not implemented',
      });
    };
  }

  /** The ImageService's methods, by gRPC method name. */
  // biome-ignore lint/suspicious/noExplicitAny: handler maps are heterogeneous by design
  private imageHandlers(): Record<string, any> {
    return {
      ListImages: this.unary('ListImages', (req: { filter: { image: ImageSpec | null } | null }) => {
        const want = req.filter?.image?.image;
        const all = [...this.images.values()].map((r) => r.image);
        return { images: want ? all.filter((i) => i === this.findImage(want)?.image) : all };
      }),
      ImageStatus: this.unary('ImageStatus', (req: { image: ImageSpec | null; verbose: boolean }) => {
        const rec = this.findImage(req.image?.image ?? '');
        return {
          image: rec?.image ?? null,
          info: rec && req.verbose ? { info: JSON.stringify({ fake: true }) } : {},
        };
      }),
      PullImage: this.unary('PullImage', (req: { image: ImageSpec | null; auth: AuthConfig | null }) =>
        this.pullImage(req.image?.image ?? '', req.auth),
      ),
      RemoveImage: this.unary('RemoveImage', (req: { image: ImageSpec | null }) => {
        const rec = this.findImage(req.image?.image ?? '');
        if (rec) this.images.delete(rec.image.id);
        return {};
      }),
      ImageFsInfo: this.unary('ImageFsInfo', () => ({
        imageFilesystems: [
          {
            timestamp: this.now(),
            fsId: { mountpoint: '/var/lib/fake-cri/snapshots' },
            usedBytes: { value: [...this.images.values()].reduce((a, r) => a + r.image.size, 0n) },
            inodesUsed: { value: BigInt(this.images.size * 300) },
          },
        ],
        containerFilesystems: [],
      })),
    };
  }

  private async intercept(rpc: string): Promise<void> {
    const gate = this.gates.get(rpc);
    if (gate) {
      gate.arrived();
      await gate.opened;
    }
    const delay = this.delays.get(rpc);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const list = this.errors.get(rpc);
    const next = list?.[0];
    if (list && next) {
      next.times = (next.times ?? 1) - 1;
      if (next.times <= 0) list.shift();
      throw new RpcFailure(next.code, next.details);
    }
  }

  private mustSandbox(id: string, message?: string): SandboxRecord {
    const s = this.lookup(this.sandboxes, id);
    if (!s) throw notFound(message ?? `an error occurred when try to find sandbox "${id}": not found`);
    return s;
  }

  private mustContainer(id: string): ContainerRecord {
    const c = this.lookup(this.containers, id);
    if (!c) throw notFound(`an error occurred when try to find container "${id}": not found`);
    return c;
  }

  /** Exact ID, or a unique ID prefix (containerd accepts truncated IDs). */
  private lookup<T>(map: Map<string, T>, id: string): T | undefined {
    if (!id) return undefined;
    const exact = map.get(id);
    if (exact) return exact;
    const matches = [...map.keys()].filter((k) => k.startsWith(id));
    return matches.length === 1 ? map.get(matches[0] as string) : undefined;
  }

  private findImage(ref: string): ImageRecord | undefined {
    if (!ref) return undefined;
    const byId = this.images.get(ref) ?? this.images.get(`sha256:${ref}`);
    if (byId) return byId;
    const tagged = withDefaultTag(ref);
    for (const rec of this.images.values()) if (rec.image.repoTags.includes(tagged)) return rec;
    return undefined;
  }

  private emit(type: ContainerEventType, c: ContainerRecord): void {
    if (this.subscribers.size === 0) return;
    const sandbox = this.sandboxes.get(c.sandboxId);
    const event: ContainerEventResponse = {
      containerId: c.id,
      containerEventType: type,
      createdAt: this.now(),
      podSandboxStatus: sandbox ? this.sandboxStatus(sandbox) : null,
      containersStatuses: [this.containerStatus(c)],
    };
    for (const s of this.subscribers) s.write(event);
  }

  // ------------------------------------------------------------------ sandboxes

  private runPodSandbox(req: { config: PodSandboxConfig | null; runtimeHandler: string }) {
    const config = req.config;
    const md = config?.metadata;
    if (!config || !md) throw unknown('sandbox config must include metadata');
    const nameKey = `${md.name}_${md.namespace}_${md.uid}_${md.attempt}`;
    const owner = this.reservedNames.get(nameKey);
    if (owner)
      throw unknown(
        `failed to reserve sandbox name "${nameKey}": name "${nameKey}" is reserved for "${owner}"`,
      );
    const id = randomId();
    this.reservedNames.set(nameKey, id);
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === NamespaceMode.NODE;
    this.sandboxes.set(id, {
      id,
      config,
      nameKey,
      state: PodSandboxState.SANDBOX_READY,
      createdAt: this.now(),
      ip: hostNetwork ? '' : this.pool.allocate(),
      runtimeHandler: req.runtimeHandler,
    });
    return { podSandboxId: id };
  }

  private stopPodSandbox(id: string) {
    const s = this.mustSandbox(id);
    for (const c of this.containers.values()) {
      if (c.sandboxId === s.id && c.state === ContainerState.CONTAINER_RUNNING) this.finish(c, 137);
    }
    if (s.state === PodSandboxState.SANDBOX_READY) {
      s.state = PodSandboxState.SANDBOX_NOTREADY;
      this.pool.release(s.ip);
    }
    return {};
  }

  private removePodSandbox(id: string) {
    const s = this.lookup(this.sandboxes, id);
    if (!s) return {}; // idempotent, like containerd
    for (const c of [...this.containers.values()]) if (c.sandboxId === s.id) this.removeContainer(c.id);
    if (s.state === PodSandboxState.SANDBOX_READY) this.pool.release(s.ip);
    this.sandboxes.delete(s.id);
    this.reservedNames.delete(s.nameKey);
    return {};
  }

  private sandboxStatus(s: SandboxRecord): PodSandboxStatus {
    const ns = s.config.linux?.securityContext?.namespaceOptions;
    return {
      id: s.id,
      metadata: s.config.metadata,
      state: s.state,
      createdAt: s.createdAt,
      network: { ip: s.state === PodSandboxState.SANDBOX_READY ? s.ip : '', additionalIps: [] },
      linux: {
        namespaces: {
          options: {
            network: ns?.network ?? NamespaceMode.POD,
            pid: ns?.pid ?? NamespaceMode.POD,
            ipc: ns?.ipc ?? NamespaceMode.POD,
            targetId: '',
            usernsOptions: null,
          },
        },
      },
      labels: s.config.labels,
      annotations: s.config.annotations,
      runtimeHandler: s.runtimeHandler,
    };
  }

  private listSandboxes(req: MessageInput<RuntimeServiceRpcs['ListPodSandbox']['request']>): PodSandbox[] {
    const f = req.filter;
    return [...this.sandboxes.values()]
      .filter((s) => !f?.id || s.id.startsWith(f.id))
      .filter((s) => !f?.state || s.state === (f.state.state ?? 0))
      .filter((s) => Object.entries(f?.labelSelector ?? {}).every(([k, v]) => s.config.labels[k] === v))
      .map((s) => ({
        id: s.id,
        metadata: s.config.metadata,
        state: s.state,
        createdAt: s.createdAt,
        labels: s.config.labels,
        annotations: s.config.annotations,
        runtimeHandler: s.runtimeHandler,
      }));
  }

  // ------------------------------------------------------------------ containers

  private createContainer(req: RuntimeServiceRpcs['CreateContainer']['request']) {
    const s = this.lookup(this.sandboxes, req.podSandboxId);
    if (!s) throw notFound(`failed to find sandbox id "${req.podSandboxId}": not found`);
    if (s.state !== PodSandboxState.SANDBOX_READY) {
      throw notFound(
        `failed to get sandbox container task: no running task found: task ${s.id} not found: not found`,
      );
    }
    const config = req.config;
    const md = config?.metadata;
    if (!config || !md?.name) throw unknown('container config must include metadata');
    const imageRef = config.image?.image ?? '';
    const image = this.findImage(imageRef);
    if (!image) throw notFound(`failed to resolve image "${imageRef}": not found`);
    const sm = s.config.metadata;
    const nameKey = `${md.name}_${sm?.name}_${sm?.namespace}_${sm?.uid}_${md.attempt}`;
    const owner = this.reservedNames.get(nameKey);
    if (owner)
      throw unknown(
        `failed to reserve container name "${nameKey}": name "${nameKey}" is reserved for "${owner}"`,
      );
    const id = randomId();
    this.reservedNames.set(nameKey, id);
    const command = config.command.length > 0 ? config.command : image.entrypoint;
    const args = config.args.length > 0 ? config.args : config.command.length > 0 ? [] : image.cmd;
    const c: ContainerRecord = {
      id,
      sandboxId: s.id,
      nameKey,
      name: md.name,
      attempt: md.attempt,
      image: { image: imageRef, annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
      imageRef: image.image.id,
      state: ContainerState.CONTAINER_CREATED,
      createdAt: this.now(),
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      labels: config.labels,
      annotations: config.annotations,
      logPath: config.logPath && s.config.logDirectory ? join(s.config.logDirectory, config.logPath) : '',
      argv: [...command, ...args],
      ignoreSigterm: false,
      mounts: config.mounts,
    };
    this.containers.set(id, c);
    this.emit(ContainerEventType.CONTAINER_CREATED_EVENT, c);
    return { containerId: id };
  }

  private writeLog(c: ContainerRecord, stream: 'stdout' | 'stderr', text: string): void {
    if (!c.logPath || !text) return;
    const lines = text.split('\n');
    const last = lines.pop();
    let out = '';
    for (const line of lines) out += `${rfc3339Nano(this.now())} ${stream} F ${line}\n`;
    if (last) out += `${rfc3339Nano(this.now())} ${stream} P ${last}\n`;
    mkdirSync(dirname(c.logPath), { recursive: true });
    appendFileSync(c.logPath, out);
  }

  private startContainer(id: string) {
    const c = this.mustContainer(id);
    if (c.state !== ContainerState.CONTAINER_CREATED) {
      throw unknown(
        `failed to set starting state for container "${c.id}": container is in ${enumName(ContainerState, c.state)} state`,
      );
    }
    let result: ShellResult;
    try {
      result = runCommand(c.argv);
    } catch (e) {
      if (e instanceof CommandNotFoundError) {
        throw unknown(
          `failed to create containerd task: failed to create shim task: OCI runtime create failed: ${e.message}`,
        );
      }
      throw e;
    }
    if (c.logPath) mkdirSync(dirname(c.logPath), { recursive: true });
    c.state = ContainerState.CONTAINER_RUNNING;
    c.startedAt = this.now();
    this.writeLog(c, 'stdout', result.stdout);
    this.writeLog(c, 'stderr', result.stderr);
    this.emit(ContainerEventType.CONTAINER_STARTED_EVENT, c);
    if (!result.blocks) this.finish(c, result.exitCode);
    return {};
  }

  private finish(c: ContainerRecord, exitCode: number, reason?: string): void {
    c.state = ContainerState.CONTAINER_EXITED;
    c.exitCode = exitCode;
    c.finishedAt = this.now();
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    this.emit(ContainerEventType.CONTAINER_STOPPED_EVENT, c);
  }

  private async stopContainer(id: string, timeoutSeconds: bigint) {
    const c = this.mustContainer(id);
    if (c.state !== ContainerState.CONTAINER_RUNNING) return {};
    if (!c.ignoreSigterm) {
      this.finish(c, 143);
      return {};
    }
    const ms = Number(timeoutSeconds) * 1000;
    if (ms > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.pendingStops.delete(t);
          resolve();
        }, ms);
        this.pendingStops.add(t);
      });
    }
    if (c.state === ContainerState.CONTAINER_RUNNING) this.finish(c, 137);
    return {};
  }

  private removeContainer(id: string) {
    const c = this.lookup(this.containers, id);
    if (!c) return {}; // idempotent, like containerd
    if (c.state === ContainerState.CONTAINER_RUNNING) this.finish(c, 137);
    this.containers.delete(c.id);
    this.reservedNames.delete(c.nameKey);
    this.emit(ContainerEventType.CONTAINER_DELETED_EVENT, c);
    return {};
  }

  private containerStatus(c: ContainerRecord): ContainerStatus {
    return {
      id: c.id,
      metadata: { name: c.name, attempt: c.attempt },
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      image: c.image,
      imageRef: c.imageRef,
      reason: c.reason,
      message: c.message,
      labels: c.labels,
      annotations: c.annotations,
      mounts: c.mounts,
      logPath: c.logPath,
      resources: null,
      imageId: '',
      user: null,
      imageSource: '',
    };
  }

  private listContainers(req: RuntimeServiceRpcs['ListContainers']['request']): Container[] {
    const f = req.filter;
    return [...this.containers.values()]
      .filter((c) => !f?.id || c.id.startsWith(f.id))
      .filter((c) => !f?.podSandboxId || c.sandboxId.startsWith(f.podSandboxId))
      .filter((c) => !f?.state || c.state === f.state.state)
      .filter((c) => Object.entries(f?.labelSelector ?? {}).every(([k, v]) => c.labels[k] === v))
      .map((c) => ({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: { name: c.name, attempt: c.attempt },
        image: c.image,
        imageRef: c.imageRef,
        state: c.state,
        createdAt: c.createdAt,
        labels: c.labels,
        annotations: c.annotations,
        imageId: '',
      }));
  }

  private execSync(id: string, cmd: string[]) {
    const c = this.lookup(this.containers, id);
    if (!c)
      throw notFound(`failed to exec in container: failed to find container "${id}" in store: not found`);
    if (c.state !== ContainerState.CONTAINER_RUNNING) {
      throw unknown(
        `failed to exec in container: container is in ${enumName(ContainerState, c.state)} state`,
      );
    }
    let result = this.execHandler?.(c.id, cmd);
    if (!result) {
      try {
        result = runCommand(cmd);
      } catch (e) {
        if (e instanceof CommandNotFoundError) {
          throw unknown(
            `failed to exec in container: failed to start exec "${randomId()}": OCI runtime exec failed: exec failed: unable to start container process: ${e.message}: unknown`,
          );
        }
        throw e;
      }
    }
    return {
      stdout: Buffer.from(result.stdout),
      stderr: Buffer.from(result.stderr),
      exitCode: result.exitCode,
    };
  }

  /**
   * Streaming exec: runs the command like ExecSync when the client connects, then sends stdout,
   * stderr and the v4 exit status. stdin and TTY are not emulated.
   */
  private async exec(req: { containerId: string; cmd: string[]; stdout: boolean; stderr: boolean }) {
    const c = this.mustContainer(req.containerId);
    if (c.state !== ContainerState.CONTAINER_RUNNING) {
      throw unknown(`container ${c.id} is not in running state`);
    }
    if (req.cmd.length === 0) throw new RpcFailure(status.INVALID_ARGUMENT, 'cmd must not be empty');
    const url = await this.streaming.url('exec', (session) => {
      let result: { stdout: Buffer; stderr: Buffer; exitCode: number } | undefined;
      let failure = '';
      try {
        result = this.execSync(c.id, req.cmd);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
      }
      if (result && req.stdout && result.stdout.length > 0) session.send(1, result.stdout);
      if (result && req.stderr && result.stderr.length > 0) session.send(2, result.stderr);
      const cmdText = req.cmd.join(' ');
      const v4 = session.protocol.startsWith('v4.');
      if (failure) {
        session.send(3, v4 ? JSON.stringify({ metadata: {}, status: 'Failure', message: failure }) : failure);
      } else if (result && result.exitCode !== 0) {
        const message = `command terminated with non-zero exit code: error executing command [${cmdText}], exit code ${result.exitCode}`;
        session.send(
          3,
          v4
            ? JSON.stringify({
                metadata: {},
                status: 'Failure',
                message,
                reason: 'NonZeroExitCode',
                details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
              })
            : message,
        );
      } else if (v4) {
        session.send(3, JSON.stringify({ metadata: {}, status: 'Success' }));
      }
      session.close();
    });
    return { url };
  }

  private containerStats(c: ContainerRecord): ContainerStats {
    const ts = this.now();
    const u = (value: bigint) => ({ value });
    return {
      attributes: {
        id: c.id,
        metadata: { name: c.name, attempt: c.attempt },
        labels: c.labels,
        annotations: c.annotations,
      },
      cpu: { timestamp: ts, usageCoreNanoSeconds: u(1_000_000n), usageNanoCores: u(0n) },
      memory: {
        timestamp: ts,
        workingSetBytes: u(800_000n),
        availableBytes: u(0n),
        usageBytes: u(800_000n),
        rssBytes: u(50_000n),
        pageFaults: u(700n),
        majorPageFaults: u(0n),
      },
      writableLayer: {
        timestamp: 0n,
        fsId: { mountpoint: '/var/lib/fake-cri/snapshots' },
        usedBytes: u(0n),
        inodesUsed: u(0n),
      },
      swap: null,
    };
  }

  // ------------------------------------------------------------------ images

  private pullImage(ref: string, auth: AuthConfig | null) {
    if (!isValidImageReference(ref)) {
      throw unknown(`failed to parse image reference "${ref}": invalid reference format`);
    }
    const present = this.findImage(ref);
    const remote = this.registry.get(withDefaultTag(ref));
    if (!remote) {
      if (present) return { imageRef: present.image.id };
      throw notFound(
        `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": not found`,
      );
    }
    if (remote.auth && (auth?.username !== remote.auth.username || auth?.password !== remote.auth.password)) {
      throw unknown(
        `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": 401 Unauthorized`,
      );
    }
    return { imageRef: this.addImage({ ...remote, id: remote.id ?? present?.image.id }) };
  }
}
