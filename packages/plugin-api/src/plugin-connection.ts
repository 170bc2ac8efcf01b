import type { Client, ClientReadableStream } from '@grpc/grpc-js';
import { loadGrpcJs, status } from './grpc-js';
import type { MessageInit } from './message-init';
import { PluginApiError } from './plugin-api-error';
import { PluginCallError } from './plugin-call-error';
import type { PluginMethod } from './service-definition';

/**
 * One gRPC channel to one unix socket, calling any of this package's methods with their own
 * codecs. A unary call has a deadline; a failure is a PluginCallError. Nothing retries: the
 * callers' loops do, as upstream's do.
 */
export class PluginConnection {
  private client: Promise<Client> | undefined;
  /** The grpc-js target, `unix:///path/to.sock`. */
  readonly target: string;

  /** `socketPath`: an absolute path, or `unix:` followed by one. */
  constructor(readonly socketPath: string) {
    const path = socketPath.replace(/^unix:(\/\/)?/, '');
    if (!path.startsWith('/'))
      throw new PluginApiError(
        'INVALID_ENDPOINT',
        socketPath,
        `socketPath ${JSON.stringify(socketPath)}: expected an absolute unix socket path (unix:///path or /path)`,
      );
    this.target = `unix://${path}`;
  }

  private channel(): Promise<Client> {
    this.client ??= loadGrpcJs().then(
      (grpc) => new grpc.Client(this.target, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 }),
    );
    return this.client;
  }

  /** Calls a unary `method` with `request`, failing with PluginCallError `DEADLINE_EXCEEDED` after `timeoutMs`. */
  async unary<Req, Res>(
    method: PluginMethod<Req, Res>,
    request: NoInfer<MessageInit<Req>>,
    timeoutMs: number,
  ): Promise<Res> {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new PluginApiError(
        'INVALID_TIMEOUT',
        method.path,
        `timeoutMs ${timeoutMs}: must be a positive number of milliseconds`,
      );
    const client = await this.channel();
    const rpc = method.originalName ?? method.path.slice(method.path.lastIndexOf('/') + 1);
    return new Promise<Res>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (!err && value !== undefined) return resolve(value);
          const code = err?.code ?? status.UNKNOWN;
          const details =
            code === status.DEADLINE_EXCEEDED
              ? `context deadline exceeded after ${timeoutMs} ms`
              : (err?.details ?? err?.message ?? 'no answer');
          reject(new PluginCallError(rpc, code, details, this.socketPath, { cause: err }));
        },
      );
    });
  }

  /** Opens a server-streaming `method` (ListAndWatch, NodeWatchResources); cancel the stream to end it. */
  async serverStream<Req, Res>(
    method: PluginMethod<Req, Res>,
    request: NoInfer<MessageInit<Req>>,
  ): Promise<ClientReadableStream<Res>> {
    const client = await this.channel();
    return client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
    );
  }

  /** Closes the channel; calls after this open a new one. */
  close(): void {
    const client = this.client;
    this.client = undefined;
    void client?.then((c) => c.close());
  }
}
