import type * as GrpcJs from '@grpc/grpc-js';
import {
  type DeviceHealth,
  draHealthV1alpha1Service,
  draV1beta1Service,
  draV1Service,
  type NodePrepareResourcesResponse,
  type NodeUnprepareResourcesResponse,
} from '@nodeagent/plugin-api';
import type {
  DraClaimRef,
  DraDeviceHealthAnswer,
  DraPluginConnection,
  DraPluginConnector,
  DraService,
} from './dra-plugin';

/** @grpc/grpc-js, evaluated at the first call (the kubelet's start does not load it). */
async function loadGrpcJs(): Promise<typeof GrpcJs> {
  const module = (await import('@grpc/grpc-js')) as typeof GrpcJs & { default?: typeof GrpcJs };
  return module.default ?? module;
}

type UnaryCall = (
  request: object,
  options: GrpcJs.CallOptions,
  callback: (error: GrpcJs.ServiceError | null, response: unknown) => void,
) => void;

interface Clients {
  dra: GrpcJs.Client;
  health: GrpcJs.Client;
}

function toHealthAnswer(device: DeviceHealth): DraDeviceHealthAnswer {
  return {
    poolName: device.device?.poolName ?? '',
    deviceName: device.device?.deviceName ?? '',
    health: device.health,
    lastUpdatedTime: Number(device.lastUpdatedTime),
    healthCheckTimeoutSeconds: Number(device.healthCheckTimeoutSeconds ?? 0),
    message: device.message ?? '',
  };
}

/**
 * The DRA plugin connection over gRPC (upstream's grpc.NewClient to `unix:<endpoint>`): one
 * channel for the chosen DRAPlugin service and the health service, created at the first call.
 * Calls carry a deadline of the client call timeout.
 */
export function grpcDraConnector(grpc?: typeof GrpcJs): DraPluginConnector {
  return (endpoint: string, service: DraService): DraPluginConnection => {
    let closed = false;
    let clients: Promise<Clients> | undefined;
    const connect = (): Promise<Clients> =>
      (clients ??= (async () => {
        const g = grpc ?? (await loadGrpcJs());
        const Dra = g.makeGenericClientConstructor(
          service === 'v1.DRAPlugin' ? draV1Service : draV1beta1Service,
          'DRAPlugin',
        );
        const dra = new Dra(`unix:${endpoint}`, g.credentials.createInsecure());
        const Health = g.makeGenericClientConstructor(draHealthV1alpha1Service, 'DRAResourceHealth');
        const health = new Health(`unix:${endpoint}`, g.credentials.createInsecure(), {
          channelOverride: dra.getChannel(),
        });
        if (closed) dra.close();
        return { dra, health };
      })());
    const unary = async <T>(method: string, claims: DraClaimRef[], timeoutMs: number): Promise<T> => {
      const { dra } = await connect();
      const call = (dra as unknown as Record<string, UnaryCall>)[method]!.bind(dra);
      return new Promise<T>((resolve, reject) =>
        call({ claims }, { deadline: Date.now() + timeoutMs }, (error, response) =>
          error ? reject(error) : resolve(response as T),
        ),
      );
    };
    return {
      nodePrepareResources: (claims, timeoutMs) =>
        unary<NodePrepareResourcesResponse>('NodePrepareResources', claims, timeoutMs),
      nodeUnprepareResources: (claims, timeoutMs) =>
        unary<NodeUnprepareResourcesResponse>('NodeUnprepareResources', claims, timeoutMs),
      watchResources(onAnswer, onEnd) {
        let stream: GrpcJs.ClientReadableStream<unknown> | undefined;
        let cancelled = false;
        let ended = false;
        const end = (error?: Error) => {
          if (ended) return;
          ended = true;
          onEnd(error);
        };
        connect().then(
          ({ health }) => {
            if (cancelled) return end();
            stream = (
              health as unknown as Record<string, (request: object) => GrpcJs.ClientReadableStream<unknown>>
            ).NodeWatchResources!.call(health, {});
            stream.on('data', (answer: { devices?: DeviceHealth[] }) =>
              onAnswer((answer.devices ?? []).map(toHealthAnswer)),
            );
            stream.on('error', (error: Error) => end(error));
            stream.on('end', () => end());
          },
          (error: Error) => end(error),
        );
        return {
          cancel() {
            cancelled = true;
            stream?.cancel();
          },
        };
      },
      watchConnected(listener) {
        void connect().then(({ dra }) => {
          const channel = dra.getChannel();
          const READY = 2;
          const SHUTDOWN = 4;
          // Asking for the state with tryToConnect starts a connection (again), as upstream's Connect().
          const follow = (state: number) => {
            if (closed || state === SHUTDOWN) return;
            listener(state === READY);
            channel.watchConnectivityState(state, Number.POSITIVE_INFINITY, () =>
              follow(channel.getConnectivityState(true)),
            );
          };
          follow(channel.getConnectivityState(true));
        });
      },
      close() {
        closed = true;
        void clients?.then(({ dra }) => dra.close());
      },
    };
  };
}
