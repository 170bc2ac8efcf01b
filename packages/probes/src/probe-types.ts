// Structural mirrors of the core/v1 probe types, so callers can pass `V1Probe` objects from
// @kubernetes/client-node (or plain literals) without this package depending on it.

export interface ExecActionSpec {
  command?: string[];
}

export interface HTTPHeaderSpec {
  name: string;
  value: string;
}

export interface HTTPGetActionSpec {
  host?: string;
  path?: string;
  /** A port number or the name of one of the container's ports (IntOrString in the API). */
  port: number | string;
  scheme?: string;
  httpHeaders?: HTTPHeaderSpec[];
}

export interface TCPSocketActionSpec {
  host?: string;
  port: number | string;
}

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

export interface ProbeRunOutcome {
  result: ProbeRunResult;
  /** Probe output or error text, truncated to 10 KiB like the kubelet. */
  output: string;
}

/** The result the results manager stores: a Warning run is recorded as Success. */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';
