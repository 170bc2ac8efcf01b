import { rm } from 'node:fs/promises';
import type { Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { registrationV1Service } from '@nodeagent/plugin-api';
import { loadGrpcJs } from './grpc-js';
import { serviceDefinition } from './service-definition';

/** The grpc-js definition of a CSI v1 service (`Identity`, `Node`, `Controller`, `GroupController`). */
export function csiServiceDefinition(
  name: 'Identity' | 'Node' | 'Controller' | 'GroupController',
): ServiceDefinition {
  return serviceDefinition(`csi.v1.${name}`);
}

/** The grpc-js definition of the kubelet plugin registration service (@nodeagent/plugin-api's `registrationV1Service`). */
export function registrationServiceDefinition(): ServiceDefinition {
  return registrationV1Service;
}

/** A gRPC server listening on a unix socket; `close()` stops it and removes the socket. */
export interface PluginServer {
  readonly socketPath: string;
  readonly server: Server;
  /** Stops serving and removes the socket. */
  close(): Promise<void>;
}

/**
 * Serve `services` on a unix socket at `socketPath` (a stale socket file there is replaced, as
 * drivers do on restart).
 */
export async function servePlugin(
  socketPath: string,
  services: { definition: ServiceDefinition; implementation: UntypedServiceImplementation }[],
): Promise<PluginServer> {
  const grpc = await loadGrpcJs();
  await rm(socketPath, { force: true });
  const server = new grpc.Server();
  for (const s of services) server.addService(s.definition, s.implementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return {
    socketPath,
    server,
    async close() {
      server.forceShutdown();
      await rm(socketPath, { force: true });
    },
  };
}
