import type * as GrpcJs from '@grpc/grpc-js';
import { devicePluginV1beta1Service } from '@nodeagent/plugin-api/deviceplugin';
import { goGrpcCodeName } from '../go-grpc-codes';
import type { ContainerAllocateResponse, DevicePluginOptions, PluginDevice } from './deviceplugin-api';

type UnaryCall = (
  request: object,
  options: GrpcJs.CallOptions,
  callback: (error: GrpcJs.ServiceError | null, response?: unknown) => void,
) => void;

/** Upstream's dial timeout for a plugin's socket (client.go: 10 s, blocking until connected). */
export const pluginDialTimeoutMs = 10_000;

/** A device plugin call failed; the message is upstream's wording with the gRPC error inside. */
export class DevicePluginCallError extends Error {
  readonly code = 'DEVICE_PLUGIN_CALL_FAILED';
  constructor(
    readonly resourceName: string,
    readonly method: string,
    message: string,
  ) {
    super(message);
    this.name = 'DevicePluginCallError';
  }
}

/** gRPC's own text for a failed call, as Go's status error prints it. */
function rpcErrorText(error: GrpcJs.ServiceError): string {
  return `rpc error: code = ${goGrpcCodeName(error.code)} desc = ${error.details}`;
}

/**
 * One registered plugin's socket, as upstream's endpoint and plugin client hold it: the plugin's
 * service called over its unix socket, the ListAndWatch stream read until it ends.
 */
export class PluginEndpoint {
  private stream: GrpcJs.ClientReadableStream<unknown> | undefined;
  private closed = false;

  private constructor(
    readonly resourceName: string,
    readonly socketPath: string,
    private readonly client: GrpcJs.Client,
  ) {}

  /** Upstream dial: waits until the socket answers, failing after `timeoutMs`. */
  static async connect(
    grpc: typeof GrpcJs,
    resourceName: string,
    socketPath: string,
    timeoutMs = pluginDialTimeoutMs,
  ): Promise<PluginEndpoint> {
    const Client = grpc.makeGenericClientConstructor(devicePluginV1beta1Service, 'DevicePlugin');
    const client = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + timeoutMs, (error) => {
        if (!error) return resolve();
        client.close();
        reject(
          new DevicePluginCallError(resourceName, 'dial', `failed to dial device plugin: ${error.message}`),
        );
      }),
    );
    return new PluginEndpoint(resourceName, socketPath, client);
  }

  private unary<T>(method: string, request: object): Promise<T> {
    const call = (this.client as unknown as Record<string, UnaryCall>)[method]!.bind(this.client);
    return new Promise((resolve, reject) =>
      call(request, {}, (error, response) => {
        if (error) reject(new DevicePluginCallError(this.resourceName, method, rpcErrorText(error)));
        else resolve(response as T);
      }),
    );
  }

  getDevicePluginOptions(): Promise<DevicePluginOptions> {
    return this.unary('GetDevicePluginOptions', {});
  }

  /** Allocate for one container: its answer's first container response (upstream uses [0]). */
  async allocate(deviceIds: readonly string[]): Promise<{ containerResponses: ContainerAllocateResponse[] }> {
    return this.unary('Allocate', { containerRequests: [{ devicesIds: deviceIds }] });
  }

  async getPreferredAllocation(
    available: readonly string[],
    mustInclude: readonly string[],
    size: number,
  ): Promise<string[]> {
    const response = await this.unary<{ containerResponses: { deviceIDs: string[] }[] }>(
      'GetPreferredAllocation',
      {
        containerRequests: [
          { availableDeviceIDs: available, mustIncludeDeviceIDs: mustInclude, allocationSize: size },
        ],
      },
    );
    return response.containerResponses[0]?.deviceIDs ?? [];
  }

  async preStartContainer(deviceIds: readonly string[]): Promise<void> {
    await this.unary('PreStartContainer', { devicesIds: deviceIds });
  }

  /**
   * Upstream Run: reads ListAndWatch, each answer the plugin's full device list; `onEnd` hears
   * the stream end (the plugin went away, or stop()) once. The promise settles when the plugin
   * has taken the call, so Register answers after ListAndWatch reached the plugin.
   */
  listAndWatch(onDevices: (devices: PluginDevice[]) => void, onEnd: (error?: string) => void): Promise<void> {
    const stream = (
      this.client as unknown as Record<string, (request: object) => GrpcJs.ClientReadableStream<unknown>>
    ).ListAndWatch!.call(this.client, {});
    this.stream = stream;
    let ended = false;
    const end = (error?: string) => {
      if (ended) return;
      ended = true;
      onEnd(error);
    };
    stream.on('data', (response: { devices: PluginDevice[] }) => onDevices(response.devices));
    stream.on('error', (error: GrpcJs.ServiceError) => end(rpcErrorText(error)));
    stream.on('end', () => end());
    stream.on('close', () => end());
    // Settles once the plugin has taken the call (its headers or first list arrived, or the stream ended).
    return new Promise((resolve) => {
      stream.once('metadata', () => resolve());
      stream.once('data', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', () => resolve());
    });
  }

  /** Closes the stream and the channel; calls in flight fail. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.cancel();
    this.client.close();
  }
}
