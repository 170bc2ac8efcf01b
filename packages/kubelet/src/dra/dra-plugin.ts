import { type Clock, CodedError } from '@nodeagent/primitives';
import { goGrpcCodeName } from '../go-grpc-codes';
import type { DraMetrics } from './dra-metrics';

/** The DRAPlugin services this kubelet speaks, newest first (upstream servicesSupportedByKubelet). */
export const DRA_SERVICES_SUPPORTED = ['v1.DRAPlugin', 'v1beta1.DRAPlugin'] as const;
/** A DRAPlugin service a driver can register with. */
export type DraService = (typeof DRA_SERVICES_SUPPORTED)[number];
/** The health service a driver may offer beside DRAPlugin (its name in supported_versions). */
export const DRA_HEALTH_SERVICE = 'v1alpha1.DRAResourceHealth';

/** The gRPC package of each DRAPlugin service: the method names the metrics carry. */
const SERVICE_PACKAGE: Record<DraService, string> = {
  'v1.DRAPlugin': 'k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin',
  'v1beta1.DRAPlugin': 'k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin',
};

/** How long a driver has to answer a call (upstream defaultClientCallTimeout, half the kubelet's retry period). */
export const DRA_CLIENT_CALL_TIMEOUT_MS = 45_000;

/** A claim as the kubelet names it to a driver. */
export interface DraClaimRef {
  namespace: string;
  uid: string;
  name: string;
}

/** One device a driver prepared (the DRAPlugin Device message). */
export interface DraDeviceAnswer {
  requestNames: string[];
  poolName: string;
  deviceName: string;
  cdiDeviceIds: string[];
  shareId?: string;
}

/** NodePrepareResources' answer, by claim uid. */
export interface DraPrepareAnswer {
  claims: Record<string, { devices?: DraDeviceAnswer[]; error?: string } | null | undefined>;
}

/** NodeUnprepareResources' answer, by claim uid. */
export interface DraUnprepareAnswer {
  claims: Record<string, { error?: string } | null | undefined>;
}

/** One device's health as the driver's health stream reports it. */
export interface DraDeviceHealthAnswer {
  poolName: string;
  deviceName: string;
  health: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  /** Unix seconds. */
  lastUpdatedTime: number;
  /** How long the report holds; zero or negative: the default (upstream DefaultHealthTimeout). */
  healthCheckTimeoutSeconds?: number;
  /** The driver's details of the device's health (DeviceHealth.message). */
  message?: string;
}

/** A running NodeWatchResources stream; `cancel` ends it. */
export interface DraHealthStream {
  cancel(): void;
}

/**
 * The gRPC connection to one plugin's endpoint, speaking the service chosen at registration.
 * Calls reject with a gRPC error (numeric `code`, `details`) as @grpc/grpc-js does.
 */
export interface DraPluginConnection {
  nodePrepareResources(claims: DraClaimRef[], timeoutMs: number): Promise<DraPrepareAnswer>;
  nodeUnprepareResources(claims: DraClaimRef[], timeoutMs: number): Promise<DraUnprepareAnswer>;
  /** Opens NodeWatchResources: each answer is the driver's whole device list; `onEnd` once it ends. */
  watchResources(
    onAnswer: (devices: DraDeviceHealthAnswer[]) => void,
    onEnd: (error?: Error) => void,
  ): DraHealthStream;
  /**
   * Hears whether the connection is up (gRPC READY), at once and on every change; a connection
   * that went down is asked to connect again. Without it the plugin counts as connected.
   */
  watchConnected?(listener: (connected: boolean) => void): void;
  close(): void;
}

/** Opens the connection to a registered plugin (the gRPC client; tests give fakes). */
export type DraPluginConnector = (endpoint: string, service: DraService) => DraPluginConnection;

/** A failed call's gRPC code name (Unknown for an error that carries none). */
export function grpcCodeName(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? goGrpcCodeName(code) : 'Unknown';
}

/** A failed call as Go's status error prints it: `rpc error: code = DeadlineExceeded desc = …`. */
export class DraCallError extends CodedError {
  constructor(
    readonly grpcCode: string,
    readonly details: string,
    options?: ErrorOptions,
  ) {
    super('DRA_CALL_FAILED', `rpc error: code = ${grpcCode} desc = ${details}`, options);
  }
}

/**
 * One registered plugin of a DRA driver (upstream DRAPlugin): its endpoint, the service chosen,
 * and calls bounded by the client call timeout, each timed into
 * dra_grpc_operations_duration_seconds by driver, method and status code.
 */
export class DraPlugin {
  constructor(
    readonly driverName: string,
    readonly endpoint: string,
    readonly service: DraService,
    readonly connection: DraPluginConnection,
    private readonly metrics: DraMetrics,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly timeoutMs = DRA_CLIENT_CALL_TIMEOUT_MS,
  ) {}

  nodePrepareResources(claims: DraClaimRef[]): Promise<DraPrepareAnswer> {
    return this.call('NodePrepareResources', () =>
      this.connection.nodePrepareResources(claims, this.timeoutMs),
    );
  }

  nodeUnprepareResources(claims: DraClaimRef[]): Promise<DraUnprepareAnswer> {
    return this.call('NodeUnprepareResources', () =>
      this.connection.nodeUnprepareResources(claims, this.timeoutMs),
    );
  }

  private async call<T>(method: string, invoke: () => Promise<T>): Promise<T> {
    const start = this.clock.now();
    const observe = (code: string) =>
      this.metrics.grpcOperationsDuration.observe(
        {
          driver_name: this.driverName,
          method_name: `/${SERVICE_PACKAGE[this.service]}/${method}`,
          grpc_status_code: code,
        },
        (this.clock.now() - start) / 1000,
      );
    try {
      const answer = await invoke();
      observe('OK');
      return answer;
    } catch (error) {
      const code = grpcCodeName(error);
      observe(code);
      const details = (error as { details?: unknown }).details;
      throw new DraCallError(code, typeof details === 'string' ? details : String((error as Error).message), {
        cause: error,
      });
    }
  }
}
