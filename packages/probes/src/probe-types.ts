// Structural mirrors of the core/v1 probe types, so callers can pass `V1Probe` objects from
// @kubernetes/client-node (or plain literals) without this package depending on it.

/** core/v1 ExecAction: the command to run in the container. */
export interface ExecActionSpec {
  command?: string[];
}

/** core/v1 HTTPHeader: one header an HTTP probe sends. */
export interface HTTPHeaderSpec {
  name: string;
  value: string;
}

/** core/v1 HTTPGetAction: where an HTTP probe sends its GET. */
export interface HTTPGetActionSpec {
  host?: string;
  path?: string;
  /** A port number or the name of one of the container's ports (IntOrString in the API). */
  port: number | string;
  scheme?: string;
  httpHeaders?: HTTPHeaderSpec[];
}

/** core/v1 TCPSocketAction: the port a TCP probe connects to. */
export interface TCPSocketActionSpec {
  host?: string;
  port: number | string;
}

/** core/v1 GRPCAction: the port and service a gRPC health probe asks. */
export interface GRPCActionSpec {
  port: number;
  service?: string;
}

/** The core/v1 `Probe`, as a PodSpec declares it. */
export interface ProbeSpec {
  exec?: ExecActionSpec;
  httpGet?: HTTPGetActionSpec;
  tcpSocket?: TCPSocketActionSpec;
  grpc?: GRPCActionSpec;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

/** The core/v1 `ContainerPort` fields a probe needs to resolve a named port. */
export interface ContainerPortSpec {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** The kind of probe, named as the kubelet's `probeType` labels them. */
export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';

/** What one probe run returns. `Warning` counts as success (e.g. a redirect to another host). */
export type ProbeRunResult = 'Success' | 'Warning' | 'Failure' | 'Unknown';

/** One probe run's result and the output that goes into its message. */
export interface ProbeRunOutcome {
  result: ProbeRunResult;
  /** Probe output or error text, truncated to 10 KiB like the kubelet. */
  output: string;
}

/** The result the results manager stores: a Warning run is recorded as Success. */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';
