import { Gauge, Histogram, type Registry } from 'prom-client';

/** Upstream metrics.DefBuckets, the buckets of both DRA histograms. */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The driver_name of dra_resource_claims_in_use's count over all drivers (upstream's "<any>"). */
export const ANY_DRIVER = '<any>';

/** Upstream's DRA metrics of the kubelet (pkg/kubelet/metrics and the claim info collector). */
export interface DraMetrics {
  /** dra_operations_duration_seconds: PrepareResources / UnprepareResources of one pod. */
  operationsDuration: Histogram<'operation_name' | 'is_error'>;
  /** dra_grpc_operations_duration_seconds: each gRPC call to a driver. */
  grpcOperationsDuration: Histogram<'driver_name' | 'method_name' | 'grpc_status_code'>;
}

/**
 * The metrics registered on `registry` (or on none). `claimsInUse` is read at each scrape:
 * the number of claims in use, by driver and over all of them.
 */
export function draMetrics(
  registry: Registry | undefined,
  claimsInUse: () => Map<string, number>,
): DraMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: 'dra_resource_claims_in_use',
    help: '[ALPHA] The number of ResourceClaims that are currently in use on the node, by driver name (driver_name label value) and across all drivers (special value <any> for driver_name). Note that the sum of all by-driver counts is not the total number of in-use ResourceClaims because the same ResourceClaim might use devices from different drivers. Instead, use the count for the <any> driver_name.',
    labelNames: ['driver_name'],
    registers,
    collect() {
      this.reset();
      for (const [driver, count] of claimsInUse()) this.set({ driver_name: driver }, count);
    },
  });
  return {
    operationsDuration: new Histogram({
      name: 'dra_operations_duration_seconds',
      help: "[ALPHA] Latency histogram in seconds for the duration of handling all ResourceClaims referenced by a pod when the pod starts or stops. Identified by the name of the operation (PrepareResources or UnprepareResources) and separated by the success of the operation. The number of failed operations is provided through the histogram's overall count.",
      labelNames: ['operation_name', 'is_error'],
      buckets: DEF_BUCKETS,
      registers,
    }),
    grpcOperationsDuration: new Histogram({
      name: 'dra_grpc_operations_duration_seconds',
      help: '[ALPHA] Duration in seconds of the DRA gRPC operations',
      labelNames: ['driver_name', 'method_name', 'grpc_status_code'],
      buckets: DEF_BUCKETS,
      registers,
    }),
  };
}
