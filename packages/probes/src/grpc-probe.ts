import type * as GrpcJs from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { Status as grpcStatus } from '@grpc/grpc-js/build/src/constants.js';
import { formatDuration } from '@nodeagent/primitives';
import { goQuote, joinHostPort } from '@nodeagent/primitives/go-text';
import { cancelledOutcome, onAbort } from './cancellation';
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  HEALTH_CHECK_METHOD,
  type ServingStatus,
} from './grpc-health-codec';
import { limitOutput } from './limit-output';
import { DEFAULT_PROBE_USER_AGENT } from './probe-defaults';
import type { ProbeRunOutcome } from './probe-types';

/** One gRPC health probe: where, which service, and its timeout. */
export interface GrpcProbeRequest {
  host: string;
  port: number;
  service: string;
  timeoutMs: number;
  userAgent?: string;
  /** Aborting cancels the RPC and ends the probe with Unknown "probe cancelled". */
  signal?: AbortSignal;
}

// grpc-js's index loads its whole client and server stack (about 0.2 s of a kubelet's start):
// imported when a gRPC probe first runs, its status codes from its constants module alone.
let grpcJs: Promise<typeof GrpcJs> | undefined;

/**
 * grpc.health.v1 Health/Check over plaintext, as the kubelet's gRPC prober does: SERVING is
 * Success; any other status, an unimplemented service, a deadline or a dial error is Failure.
 */
export async function runGrpcProbe(req: GrpcProbeRequest): Promise<ProbeRunOutcome> {
  if (req.signal?.aborted) return cancelledOutcome();
  grpcJs ??= import('@grpc/grpc-js').then((m) => (m as { default?: typeof GrpcJs }).default ?? m);
  const { Client, connectivityState, credentials, Metadata } = await grpcJs;
  if (req.signal?.aborted) return cancelledOutcome();
  const target = joinHostPort(req.host, req.port);
  const client = new Client(target, credentials.createInsecure(), {
    'grpc.primary_user_agent': req.userAgent ?? DEFAULT_PROBE_USER_AGENT,
    // A probe is one call: no retries, no lingering channel.
    'grpc.enable_retries': 0,
  });
  const deadline = Date.now() + req.timeoutMs;
  // Upstream dials with grpc.WithBlock: a server that refuses or is not up yet is dialled again
  // (gRPC's reconnect back-off) until the timeout, so one that comes up within it passes.
  const metadata = new Metadata();
  metadata.setOptions({ waitForReady: true });
  const connected = () => client.getChannel().getConnectivityState(false) === connectivityState.READY;
  let unsubscribe = () => {};
  return new Promise<ProbeRunOutcome>((resolve) => {
    const call = client.makeUnaryRequest<{ service: string }, { status: ServingStatus }>(
      HEALTH_CHECK_METHOD,
      encodeHealthCheckRequest,
      decodeHealthCheckResponse,
      { service: req.service },
      metadata,
      { deadline },
      (err, res) => {
        if (err?.code === grpcStatus.CANCELLED && req.signal?.aborted) return resolve(cancelledOutcome());
        if (err)
          return resolve({
            result: 'Failure',
            output: limitOutput(describeError(err, req, target, connected())),
          });
        if (res?.status === 'SERVING') return resolve({ result: 'Success', output: 'service healthy' });
        resolve({
          result: 'Failure',
          output: `service unhealthy (responded with "${res?.status ?? 'UNKNOWN'}")`,
        });
      },
    );
    unsubscribe = onAbort(req.signal, () => call.cancel());
  }).finally(() => {
    unsubscribe();
    client.close();
  });
}

/**
 * Upstream's gRPC prober's outputs (pkg/probe/grpc), the timeout as Go prints a Duration (`1s`).
 * A deadline that passed before the channel was ever ready is its blocking dial's timeout.
 */
function describeError(err: ServiceError, req: GrpcProbeRequest, target: string, connected: boolean): string {
  const timeout = formatDuration(req.timeoutMs);
  switch (err.code) {
    case grpcStatus.UNIMPLEMENTED:
      return `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.details}`;
    case grpcStatus.DEADLINE_EXCEEDED:
      return connected
        ? `timeout: health rpc did not complete within ${timeout}`
        : `timeout: failed to connect service ${goQuote(target)} within ${timeout}: context deadline exceeded`;
    default:
      return `error: health rpc probe failed: ${err.message}`;
  }
}
