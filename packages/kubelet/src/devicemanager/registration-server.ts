import type * as GrpcJs from '@grpc/grpc-js';
import { devicePluginRegistrationV1beta1Service } from '@nodeagent/plugin-api/deviceplugin';
import { isExtendedResourceName } from '../api/extended-resource-name';
import { devicePluginApiVersion } from './deviceplugin-api';

/** A RegisterRequest as the Registration service receives it. */
export interface RegisterRequest {
  version: string;
  endpoint: string;
  resourceName: string;
  options?: { preStartRequired?: boolean; getPreferredAllocationAvailable?: boolean } | null;
}

/** Upstream's errInvalidResourceName (types.go) for a name that is no extended resource, else undefined. */
export function invalidResourceName(resourceName: string): string | undefined {
  return isExtendedResourceName(resourceName) ? undefined : `the ResourceName "${resourceName}" is invalid`;
}

/** Upstream's errUnsupportedVersion and errInvalidResourceName (types.go), word for word. */
export function registrationRefusal(request: RegisterRequest): string | undefined {
  if (request.version !== devicePluginApiVersion)
    return `requested API version "${request.version}" is not supported by kubelet. Supported version is ["${devicePluginApiVersion}"]`;
  return invalidResourceName(request.resourceName);
}

/**
 * The kubelet's Registration service (upstream plugin/v1beta1 server.go) on a unix socket:
 * Register validates the version and resource name, then `connect` dials the plugin and asks
 * its options before the answer goes back, as upstream's connectClient does.
 */
export class RegistrationServer {
  private server: GrpcJs.Server | undefined;

  constructor(
    private readonly grpc: typeof GrpcJs,
    private readonly connect: (request: RegisterRequest) => Promise<void>,
    private readonly onRegisterRequest: (resourceName: string) => void = () => {},
  ) {}

  /** Listens on `socketPath` (which must not exist). */
  async start(socketPath: string): Promise<void> {
    const grpc = this.grpc;
    const server = new grpc.Server();
    server.addService(devicePluginRegistrationV1beta1Service, {
      Register: (
        call: GrpcJs.ServerUnaryCall<RegisterRequest, object>,
        callback: GrpcJs.sendUnaryData<object>,
      ) => {
        const request = call.request;
        this.onRegisterRequest(request.resourceName);
        const refusal = registrationRefusal(request);
        if (refusal) return callback({ code: grpc.status.UNKNOWN, details: refusal });
        this.connect(request).then(
          () => callback(null, {}),
          (error: Error) => callback({ code: grpc.status.UNKNOWN, details: error.message }),
        );
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.server = server;
  }

  /** Stops serving at once (upstream grpc.Stop). */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}
