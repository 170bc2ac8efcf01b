import type { Client } from '@grpc/grpc-js';
import { CsiError, InvalidCsiArgumentError, PluginTimeoutError, PluginUnreachableError } from './csi-error';
import { pluginTarget } from './endpoint';
import { loadGrpcJs, status } from './grpc-js';
import { serviceDefinition } from './service-definition';

/**
 * One gRPC channel to one plugin socket, calling unary methods of the given services with a
 * deadline each. Failures become CsiError subclasses; nothing here retries (the callers' loops
 * do, as upstream's reconcilers do).
 */
export class UnaryClient {
  private client: Promise<Client> | undefined;
  private readonly methods = new Map<
    string,
    { path: string; serialize: (v: object) => Buffer; deserialize: (b: Buffer) => object }
  >();
  readonly target: string;

  constructor(
    readonly endpoint: string,
    services: string[],
  ) {
    this.target = pluginTarget(endpoint);
    for (const service of services) {
      for (const [name, m] of Object.entries(serviceDefinition(service))) {
        this.methods.set(name, {
          path: m.path,
          serialize: m.requestSerialize,
          deserialize: m.responseDeserialize,
        });
      }
    }
  }

  private channel(): Promise<Client> {
    this.client ??= loadGrpcJs().then(
      (grpc) => new grpc.Client(this.target, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 }),
    );
    return this.client;
  }

  /** Call `rpc` with `request`, failing after `timeoutMs`. */
  async call<T>(rpc: string, request: object, timeoutMs: number): Promise<T> {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new InvalidCsiArgumentError('timeoutMs', timeoutMs, 'must be a positive number of milliseconds');
    const method = this.methods.get(rpc);
    if (!method) throw new InvalidCsiArgumentError('rpc', rpc, 'not a method of this client');
    const client = await this.channel();
    return new Promise<T>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.serialize,
        method.deserialize,
        request,
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (!err) return resolve(value as T);
          const code = err.code ?? status.UNKNOWN;
          const details = err.details ?? err.message;
          if (code === status.DEADLINE_EXCEEDED)
            return reject(new PluginTimeoutError(rpc, timeoutMs, this.endpoint, { cause: err }));
          if (code === status.UNAVAILABLE)
            return reject(new PluginUnreachableError(rpc, details, this.endpoint, { cause: err }));
          reject(new CsiError(rpc, code, details, this.endpoint, { cause: err }));
        },
      );
    });
  }

  /** Close the channel; calls after this open a new one. */
  close(): void {
    const client = this.client;
    this.client = undefined;
    void client?.then((c) => c.close());
  }
}
