import type { Duplex } from 'node:stream';
import type { Client, ClientReadableStream } from '@grpc/grpc-js';
import { type MessageCodec, type MessageInput, messageCodec } from './codec';
import { CriError, toCriError, UnsupportedRuntimeApiError } from './cri-error';
import { grpcTarget, socketPath } from './endpoint';
import { criMethods } from './generated/methods';
import type {
  ContainerEventResponse,
  ImageServiceRpcs,
  MessageTypeName,
  RuntimeServiceRpcs,
} from './generated/types';
import { loadGrpcJs, status } from './grpc-js';
import { reusingListCodec } from './reusing-list-codec';
import { openPortForward } from './streaming/port-forward';
import { type OpenStreamOptions, openStream, type StreamSession } from './streaming/stream-session';
import { GrpcUnaryChannel } from './unary-channel';
import type { UnaryTransport } from './unary-transport';

/** Like the kubelet's --runtime-request-timeout default. */
export const DEFAULT_TIMEOUT_MS = 2 * 60 * 1000;
/** Image pulls get longer, like the kubelet's image pull path. */
export const DEFAULT_PULL_TIMEOUT_MS = 4 * 60 * 1000;
/** The kubelet's CRI message size limit (16 MiB), both directions. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Sent in VersionRequest.version, as the kubelet does. */
export const KUBE_RUNTIME_API_VERSION = '0.1.0';

/** Where the runtime listens and the client's timeouts and message size. */
export interface CriClientOptions {
  /** `unix:///run/containerd/containerd.sock`, `unix:/…` or a bare socket path. */
  endpoint: string;
  /** Default per-call deadline (ms). Default 2 min. */
  timeoutMs?: number;
  /** Deadline for PullImage (ms). Default 4 min. */
  pullTimeoutMs?: number;
  /** Max gRPC message size in bytes, send and receive. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Skip the Version round-trip createCriClient does (then `runtimeVersion` stays undefined). */
  skipVersionCheck?: boolean;
  /**
   * How unary calls reach the runtime. Default: gRPC over HTTP/2 to `endpoint`'s socket. The fake
   * runtime's `inProcessTransport()` answers in the same process without the socket (many fake
   * nodes in one process); the event stream still uses the socket.
   */
  transport?: UnaryTransport;
}

/** Per call: an abort signal and a timeout overriding the client's. */
export interface CallOptions {
  /** Cancels the call; it then rejects with a CriError whose code is CANCELLED. */
  signal?: AbortSignal;
  /** Overrides the client's deadline for this call (ms). */
  timeoutMs?: number;
}

type RtName = keyof RuntimeServiceRpcs;
type ImName = keyof ImageServiceRpcs;
type RtReq<K extends RtName> = MessageInput<RuntimeServiceRpcs[K]['request']>;
type RtRes<K extends RtName> = RuntimeServiceRpcs[K]['response'];
type ImReq<K extends ImName> = MessageInput<ImageServiceRpcs[K]['request']>;
type ImRes<K extends ImName> = ImageServiceRpcs[K]['response'];

interface MethodEntry {
  path: string;
  request: MessageCodec<unknown>;
  response: MessageCodec<unknown>;
  serialize: (value: unknown) => Buffer;
  deserialize: (bytes: Buffer) => unknown;
}

/**
 * The answers a kubelet asks for every second on a steady node: unchanged items are decoded once
 * and shared (frozen) between answers (see reusingListCodec). Each client keeps its own reusing
 * codecs: their cache ages by calls, so one shared by many clients in a process (1,000 hollow
 * nodes' kubelets) dropped each node's items before that node listed again and never reused one.
 */
const listAnswers = new Set(['ListContainersResponse', 'ListPodSandboxResponse']);

const methodEntries = new Map<string, MethodEntry>();

/**
 * The RPC's path and codecs, made on its first call: a kubelet calls a dozen of the ~40 RPCs, and
 * each codec costs a type lookup (and its functions' compilation) when made.
 */
function methodEntry(rpc: string): MethodEntry | undefined {
  const made = methodEntries.get(rpc);
  if (made) return made;
  const m = criMethods.find((c) => c.name === rpc);
  if (!m) return undefined;
  const request = messageCodec<unknown>(m.requestType as MessageTypeName);
  const response = messageCodec<unknown>(m.responseType as MessageTypeName);
  const entry: MethodEntry = {
    path: `/runtime.v1.${m.service}/${m.name}`,
    request,
    response,
    serialize: (v) => request.encode(v as never),
    deserialize: (b) => response.decode(b),
  };
  methodEntries.set(rpc, entry);
  return entry;
}

/**
 * Typed, promise-based client for CRI runtime.v1 (RuntimeService + ImageService) over a unix
 * socket. Every method takes a camelCase request object and optional CallOptions; 64-bit integers
 * are bigint in responses (numbers are accepted in requests). Failures reject with CriError.
 */
export class CriClient {
  readonly endpoint: string;
  /** The runtime's Version answer, filled by connect() / createCriClient(). */
  runtimeVersion: RtRes<'Version'> | undefined;
  /** Unary calls: every RPC but the event stream. */
  private readonly unary: UnaryTransport;
  /** GetContainerEvents' server stream, made on its first use. */
  private streams: Client | undefined;
  private readonly maxMessageBytes: number;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;
  /** This client's reusing decoders of the list answers, by RPC (see listAnswers). */
  private readonly listDecoders = new Map<string, (bytes: Buffer) => unknown>();

  constructor(opts: CriClientOptions) {
    this.endpoint = opts.endpoint;
    this.maxMessageBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.unary = opts.transport ?? new GrpcUnaryChannel(socketPath(opts.endpoint), this.maxMessageBytes);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  }

  /** Call Version and refuse runtimes that do not speak runtime.v1. */
  async connect(opts?: CallOptions): Promise<RtRes<'Version'>> {
    const v = await this.version({ version: KUBE_RUNTIME_API_VERSION }, opts);
    if (v.runtimeApiVersion !== 'v1') {
      throw new UnsupportedRuntimeApiError('runtimeApiVersion', v.runtimeApiVersion, this.endpoint);
    }
    this.runtimeVersion = v;
    return v;
  }

  /** Close the channel; in-flight calls fail with CANCELLED/UNAVAILABLE. */
  close(): void {
    this.unary.close();
    this.streams?.close();
  }

  /**
   * Generic unary call by RPC name (e.g. `call('ListContainers', {...})`): the escape hatch the typed
   * methods below are built on.
   */
  call<Res>(
    rpc: string,
    request: unknown,
    opts: CallOptions = {},
    defaultTimeoutMs = this.timeoutMs,
  ): Promise<Res> {
    const m = methodEntry(rpc);
    if (!m) return Promise.reject(new CriError(rpc, status.UNIMPLEMENTED, 'unknown RPC', this.endpoint));
    const signal = opts.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new CriError(rpc, status.CANCELLED, 'aborted before the call started', this.endpoint, {
          cause: signal.reason,
        }),
      );
    }
    const deadline = Date.now() + (opts.timeoutMs ?? defaultTimeoutMs);
    let bytes: Buffer;
    try {
      bytes = m.serialize(request ?? {});
    } catch (e) {
      const why = `Request message serialization failure: ${(e as Error).message}`;
      return Promise.reject(new CriError(rpc, status.INTERNAL, why, this.endpoint, { cause: e }));
    }
    return this.unary.call(m.path, bytes, { deadline, signal }).then(
      (answer) => {
        try {
          return this.decoderOf(rpc, m)(answer) as Res;
        } catch (e) {
          const why = `Response message parsing error: ${(e as Error).message}`;
          throw new CriError(rpc, status.INTERNAL, why, this.endpoint, { cause: e });
        }
      },
      (e: unknown) => Promise.reject(toCriError(rpc, this.endpoint, e)),
    );
  }

  /** The answer's decoder: this client's reusing one for a list answer, else the shared one. */
  private decoderOf(rpc: string, m: MethodEntry): (bytes: Buffer) => unknown {
    const typeName = m.response.typeName;
    if (!listAnswers.has(typeName)) return m.deserialize;
    let decode = this.listDecoders.get(rpc);
    if (!decode) {
      const codec = reusingListCodec<unknown>(typeName as MessageTypeName);
      decode = (bytes) => codec.decode(bytes);
      this.listDecoders.set(rpc, decode);
    }
    return decode;
  }

  private rt<K extends RtName>(rpc: K, req: RtReq<K> | undefined, opts?: CallOptions, timeoutMs?: number) {
    return this.call<RtRes<K>>(rpc, req, opts, timeoutMs);
  }

  private im<K extends ImName>(rpc: K, req: ImReq<K> | undefined, opts?: CallOptions, timeoutMs?: number) {
    return this.call<ImRes<K>>(rpc, req, opts, timeoutMs);
  }

  // ------------------------------------------------------------------ runtime

  /** The runtime's name, version and CRI API version (Version). */
  version(req: RtReq<'Version'> = { version: KUBE_RUNTIME_API_VERSION }, opts?: CallOptions) {
    return this.rt('Version', req, opts);
  }
  /** Runtime conditions (RuntimeReady, NetworkReady); `verbose: true` adds the `info` map. */
  status(req: RtReq<'Status'> = {}, opts?: CallOptions) {
    return this.rt('Status', req, opts);
  }
  /** The runtime's configuration the kubelet must match, e.g. its cgroup driver (RuntimeConfig). */
  runtimeConfig(req: RtReq<'RuntimeConfig'> = {}, opts?: CallOptions) {
    return this.rt('RuntimeConfig', req, opts);
  }
  /** Hands the runtime the node's pod CIDR (UpdateRuntimeConfig). */
  updateRuntimeConfig(req: RtReq<'UpdateRuntimeConfig'>, opts?: CallOptions) {
    return this.rt('UpdateRuntimeConfig', req, opts);
  }

  // ------------------------------------------------------------------ pod sandboxes

  /** Creates and starts a pod sandbox; resolves to its ID (RunPodSandbox). */
  runPodSandbox(req: RtReq<'RunPodSandbox'>, opts?: CallOptions) {
    return this.rt('RunPodSandbox', req, opts);
  }
  /** Stops a sandbox's containers and releases its network (StopPodSandbox). */
  stopPodSandbox(req: RtReq<'StopPodSandbox'>, opts?: CallOptions) {
    return this.rt('StopPodSandbox', req, opts);
  }
  /** Removes a stopped sandbox and its containers (RemovePodSandbox). */
  removePodSandbox(req: RtReq<'RemovePodSandbox'>, opts?: CallOptions) {
    return this.rt('RemovePodSandbox', req, opts);
  }
  /** A sandbox's state, IPs and metadata (PodSandboxStatus). */
  podSandboxStatus(req: RtReq<'PodSandboxStatus'>, opts?: CallOptions) {
    return this.rt('PodSandboxStatus', req, opts);
  }
  /** Sandboxes matching the filter (ListPodSandbox). */
  listPodSandbox(req: RtReq<'ListPodSandbox'> = {}, opts?: CallOptions) {
    return this.rt('ListPodSandbox', req, opts);
  }
  /** One sandbox's cpu, memory, network and process usage (PodSandboxStats). */
  podSandboxStats(req: RtReq<'PodSandboxStats'>, opts?: CallOptions) {
    return this.rt('PodSandboxStats', req, opts);
  }
  /** Usage of the sandboxes matching the filter (ListPodSandboxStats). */
  listPodSandboxStats(req: RtReq<'ListPodSandboxStats'> = {}, opts?: CallOptions) {
    return this.rt('ListPodSandboxStats', req, opts);
  }
  /** The metrics the runtime can report per sandbox (ListMetricDescriptors). */
  listMetricDescriptors(req: RtReq<'ListMetricDescriptors'> = {}, opts?: CallOptions) {
    return this.rt('ListMetricDescriptors', req, opts);
  }
  /** Every sandbox's metrics (ListPodSandboxMetrics). */
  listPodSandboxMetrics(req: RtReq<'ListPodSandboxMetrics'> = {}, opts?: CallOptions) {
    return this.rt('ListPodSandboxMetrics', req, opts);
  }

  // ------------------------------------------------------------------ containers

  /** Creates a container in a sandbox; resolves to its ID (CreateContainer). */
  createContainer(req: RtReq<'CreateContainer'>, opts?: CallOptions) {
    return this.rt('CreateContainer', req, opts);
  }
  /** Starts a created container (StartContainer). */
  startContainer(req: RtReq<'StartContainer'>, opts?: CallOptions) {
    return this.rt('StartContainer', req, opts);
  }
  /** `timeout` is the grace period in seconds; the deadline is extended by it, as the kubelet does. */
  stopContainer(req: RtReq<'StopContainer'>, opts?: CallOptions) {
    return this.rt('StopContainer', req, opts, this.timeoutMs + Number(req.timeout ?? 0) * 1000);
  }
  /** Removes a container, stopping it first if needed (RemoveContainer). */
  removeContainer(req: RtReq<'RemoveContainer'>, opts?: CallOptions) {
    return this.rt('RemoveContainer', req, opts);
  }
  /** Filter by id, podSandboxId, state (`{ state: { state: ContainerState.CONTAINER_RUNNING } }`) and labels. */
  listContainers(req: RtReq<'ListContainers'> = {}, opts?: CallOptions) {
    return this.rt('ListContainers', req, opts);
  }
  /** A container's state, exit code, times and mounts (ContainerStatus). */
  containerStatus(req: RtReq<'ContainerStatus'>, opts?: CallOptions) {
    return this.rt('ContainerStatus', req, opts);
  }
  /** Changes a running container's cgroup limits (UpdateContainerResources). */
  updateContainerResources(req: RtReq<'UpdateContainerResources'>, opts?: CallOptions) {
    return this.rt('UpdateContainerResources', req, opts);
  }
  /**
   * Tells the runtime a pod's resources after an in-place resize (UpdatePodSandboxResources):
   * `resources` is the pod cgroup's without `overhead`. containerd 1.6 answers `UNIMPLEMENTED`.
   */
  updatePodSandboxResources(req: RtReq<'UpdatePodSandboxResources'>, opts?: CallOptions) {
    return this.rt('UpdatePodSandboxResources', req, opts);
  }
  /** Makes the runtime reopen a container's log file after rotation (ReopenContainerLog). */
  reopenContainerLog(req: RtReq<'ReopenContainerLog'>, opts?: CallOptions) {
    return this.rt('ReopenContainerLog', req, opts);
  }
  /** Runs `cmd` to completion; the deadline is extended by `timeout` seconds, as the kubelet does. */
  execSync(req: RtReq<'ExecSync'>, opts?: CallOptions) {
    return this.rt('ExecSync', req, opts, this.timeoutMs + Number(req.timeout ?? 0) * 1000);
  }
  /** Returns the streaming-server URL for an interactive exec. */
  exec(req: RtReq<'Exec'>, opts?: CallOptions) {
    return this.rt('Exec', req, opts);
  }
  /** Returns the streaming-server URL to attach to the container's stdio. */
  attach(req: RtReq<'Attach'>, opts?: CallOptions) {
    return this.rt('Attach', req, opts);
  }
  /** Returns the streaming-server URL for port forwarding into the sandbox. */
  portForward(req: RtReq<'PortForward'>, opts?: CallOptions) {
    return this.rt('PortForward', req, opts);
  }
  /** Exec, then open its stream (stdout/stderr/stdin/resize and the exit code). */
  async execStream(req: RtReq<'Exec'>, opts: CallOptions & OpenStreamOptions = {}): Promise<StreamSession> {
    const { url } = await this.exec(req, opts);
    return openStream(url, opts);
  }
  /** Attach, then open its stream. */
  async attachStream(
    req: RtReq<'Attach'>,
    opts: CallOptions & OpenStreamOptions = {},
  ): Promise<StreamSession> {
    const { url } = await this.attach(req, opts);
    return openStream(url, opts);
  }
  /** PortForward for one port, then open a forwarded connection to it (a Duplex of its bytes). */
  async portForwardStream(
    podSandboxId: string,
    port: number,
    opts: CallOptions & OpenStreamOptions = {},
  ): Promise<Duplex> {
    const { url } = await this.portForward({ podSandboxId, port: [port] }, opts);
    return openPortForward(url, port, opts);
  }
  /** One container's cpu, memory and writable-layer usage (ContainerStats). */
  containerStats(req: RtReq<'ContainerStats'>, opts?: CallOptions) {
    return this.rt('ContainerStats', req, opts);
  }
  /** Usage of the containers matching the filter (ListContainerStats). */
  listContainerStats(req: RtReq<'ListContainerStats'> = {}, opts?: CallOptions) {
    return this.rt('ListContainerStats', req, opts);
  }
  /** Checkpoints a container to a file (CheckpointContainer). */
  checkpointContainer(req: RtReq<'CheckpointContainer'>, opts?: CallOptions) {
    return this.rt('CheckpointContainer', req, opts);
  }

  /**
   * Container lifecycle events as an async iterator. No deadline: it runs until the signal aborts,
   * the loop breaks (which cancels the stream) or the runtime ends it. Runtimes without evented
   * PLEG (containerd 1.6) fail the first `next()` with UNIMPLEMENTED.
   */
  async *getContainerEvents(opts: { signal?: AbortSignal } = {}): AsyncGenerator<ContainerEventResponse> {
    const m = methodEntry('GetContainerEvents') as MethodEntry;
    const { Client, credentials, Metadata } = await loadGrpcJs();
    this.streams ??= new Client(grpcTarget(this.endpoint), credentials.createInsecure(), {
      'grpc.max_receive_message_length': this.maxMessageBytes,
      'grpc.max_send_message_length': this.maxMessageBytes,
    });
    const stream: ClientReadableStream<ContainerEventResponse> = this.streams.makeServerStreamRequest(
      m.path,
      m.serialize,
      m.deserialize as (b: Buffer) => ContainerEventResponse,
      {},
      new Metadata(),
      {},
    );
    const onAbort = () => stream.cancel();
    if (opts.signal?.aborted) stream.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const event of stream) yield event as ContainerEventResponse;
    } catch (e) {
      const code = (e as { code?: number }).code;
      // Our own cancellation ends the iteration quietly.
      if (code === status.CANCELLED && opts.signal?.aborted) return;
      throw toCriError('GetContainerEvents', this.endpoint, e);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      stream.cancel();
    }
  }

  // ------------------------------------------------------------------ images

  /** Images the runtime holds, optionally filtered (ListImages). */
  listImages(req: ImReq<'ListImages'> = {}, opts?: CallOptions) {
    return this.im('ListImages', req, opts);
  }
  /** `image` is null in the response when the image is not present (that is not an error). */
  imageStatus(req: ImReq<'ImageStatus'>, opts?: CallOptions) {
    return this.im('ImageStatus', req, opts);
  }
  /** Pull with optional `auth` (AuthConfig); deadline defaults to 4 minutes. */
  pullImage(req: ImReq<'PullImage'>, opts?: CallOptions) {
    return this.im('PullImage', req, opts, this.pullTimeoutMs);
  }
  /** Removes an image (RemoveImage). */
  removeImage(req: ImReq<'RemoveImage'>, opts?: CallOptions) {
    return this.im('RemoveImage', req, opts);
  }
  /** Usage of the filesystems holding images and containers (ImageFsInfo). */
  imageFsInfo(req: ImReq<'ImageFsInfo'> = {}, opts?: CallOptions) {
    return this.im('ImageFsInfo', req, opts);
  }
}

/**
 * Create a client and (unless `skipVersionCheck`) check on connect that the runtime speaks
 * runtime.v1. A dead socket rejects with RuntimeUnreachableError ("runtime unreachable at …").
 */
export async function createCriClient(opts: CriClientOptions): Promise<CriClient> {
  const client = new CriClient(opts);
  if (!opts.skipVersionCheck) {
    try {
      await client.connect();
    } catch (e) {
      client.close();
      throw e;
    }
  }
  return client;
}
