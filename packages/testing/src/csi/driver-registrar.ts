import { join } from 'node:path';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { type PluginServer, registrationServiceDefinition, servePlugin } from '@nodeagent/csi-client';

/** Options for {@link startDriverRegistrar}. */
export interface DriverRegistrarOptions {
  /** The kubelet's `<root-dir>/plugins_registry`. */
  registrationDir: string;
  /** The driver's name, as GetPluginInfo gives it. */
  driverName: string;
  /** The driver's socket the kubelet is to call (node-driver-registrar's --kubelet-registration-path). */
  endpoint: string;
  /** GetInfo's type; `CSIPlugin` by default. */
  type?: string;
  /** GetInfo's supported_versions; `['1.0.0']` by default, as node-driver-registrar. */
  supportedVersions?: string[];
  /** The registration socket's name in registrationDir; `<driverName>-reg.sock` by default. */
  socketName?: string;
}

/** A running registrar: the kubelet's verdicts so far, and stop (which removes the socket). */
export interface DriverRegistrar {
  readonly socketPath: string;
  readonly statuses: { pluginRegistered: boolean; error: string }[];
  /** Stops serving and removes the registration socket. */
  stop(): Promise<void>;
}

/**
 * What kubernetes-csi's node-driver-registrar does for a driver: serve the kubelet plugin
 * registration API on `<registrationDir>/<driverName>-reg.sock` (its socket name), answering
 * GetInfo with the driver's name and endpoint, and recording NotifyRegistrationStatus.
 */
export async function startDriverRegistrar(opts: DriverRegistrarOptions): Promise<DriverRegistrar> {
  const statuses: { pluginRegistered: boolean; error: string }[] = [];
  const socketPath = join(opts.registrationDir, opts.socketName ?? `${opts.driverName}-reg.sock`);
  const server: PluginServer = await servePlugin(socketPath, [
    {
      definition: registrationServiceDefinition(),
      implementation: {
        GetInfo: (_call: ServerUnaryCall<object, object>, done: sendUnaryData<object>) =>
          done(null, {
            type: opts.type ?? 'CSIPlugin',
            name: opts.driverName,
            endpoint: opts.endpoint,
            supportedVersions: opts.supportedVersions ?? ['1.0.0'],
          }),
        NotifyRegistrationStatus: (
          call: ServerUnaryCall<{ pluginRegistered: boolean; error: string }, object>,
          done: sendUnaryData<object>,
        ) => {
          statuses.push({ pluginRegistered: call.request.pluginRegistered, error: call.request.error });
          done(null, {});
        },
      },
    },
  ]);
  return { socketPath, statuses, stop: () => server.close() };
}
