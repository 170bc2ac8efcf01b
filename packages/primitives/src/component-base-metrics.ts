/**
 * The metrics every Kubernetes binary serves on /metrics through k8s.io/component-base, whatever
 * the binary: `kubernetes_build_info` (component-base/metrics/version.go, registered at init) and
 * the client-go `rest_client_*` request metrics (component-base/metrics/prometheus/restclient,
 * registered at init and fed by client-go's `tools/metrics` hooks). Names, help, labels and
 * buckets are upstream v1.36's; the kubelet and kube-proxy register both on their registries.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricStabilityTable } from './metric-stability';
import { goArch, KUBERNETES_VERSION } from './version';

/**
 * Their component-base stability levels: `kubernetes_build_info` BETA since v1.36 (the generated
 * metrics-list diff v1.35.0 → v1.36.0), the `rest_client_*` ALPHA (Kubernetes Metrics Reference
 * v1.34; the v1.36 diff changes none of these five).
 */
export const componentBaseMetricStability: MetricStabilityTable = {
  kubernetes_build_info: 'BETA',
  rest_client_rate_limiter_duration_seconds: 'ALPHA',
  rest_client_request_duration_seconds: 'ALPHA',
  rest_client_request_size_bytes: 'ALPHA',
  rest_client_requests_total: 'ALPHA',
  rest_client_response_size_bytes: 'ALPHA',
};

/** What a test may pin in the build info's `platform`; each defaults to this process's own. */
export interface BuildPlatform {
  platform?: string;
  arch?: string;
}

/**
 * The labels of `kubernetes_build_info`: upstream's version.Info fields, as this binary's
 * `--version=raw` prints them (GitVersion the Kubernetes release it follows; the fields a Go build
 * stamps empty; Compiler `node`). Keys in Go's exposition order (sorted).
 */
export function buildInfoLabels(runtime: BuildPlatform = {}): Record<string, string> {
  const [major = '', minor = ''] = KUBERNETES_VERSION.slice(1).split('.');
  return {
    build_date: '',
    compiler: 'node',
    git_commit: '',
    git_tree_state: '',
    git_version: KUBERNETES_VERSION,
    go_version: '',
    major,
    minor,
    platform: `${runtime.platform ?? process.platform}/${goArch(runtime.arch)}`,
  };
}

/**
 * Registers `kubernetes_build_info` on `registry`, its one series set to 1 as upstream's
 * RegisterBuildInfo does.
 */
export function registerBuildInfo(registry: Registry, runtime: BuildPlatform = {}): void {
  const labels = buildInfoLabels(runtime);
  new Gauge({
    name: 'kubernetes_build_info',
    help: "A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is running.",
    labelNames: Object.keys(labels),
    registers: [registry],
  }).set(labels, 1);
}

/** The rest_client_* series one API request adds to, by the observation client-go makes. */
export interface RestClientMetricSet {
  /** rest_client_requests_total{code,host,method}. */
  requestResult(code: string, method: string, host: string): void;
  /** rest_client_request_duration_seconds{host,verb}. */
  requestLatency(verb: string, host: string, seconds: number): void;
  /** rest_client_request_size_bytes{host,verb}. */
  requestSize(verb: string, host: string, bytes: number): void;
  /** rest_client_response_size_bytes{host,verb}. */
  responseSize(verb: string, host: string, bytes: number): void;
  /** rest_client_rate_limiter_duration_seconds{host,verb}. */
  rateLimiterLatency(verb: string, host: string, seconds: number): void;
}

/** restclient/metrics.go's latency buckets, for requests and rate-limiter waits alike. */
const LATENCY_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
/** Its size buckets: 64 bytes to 16 MiB. */
const SIZE_BUCKETS = [64, 256, 512, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

function byVerbAndHost(registry: Registry, name: string, help: string, buckets: number[]) {
  return new Histogram({ name, help, labelNames: ['host', 'verb'], buckets, registers: [registry] });
}

/**
 * Registers the rest_client_* metrics a v1.36 binary serves for its API requests on `registry`
 * and returns what records into them: connect it to the API client (the informer package's
 * setRestClientMetrics) so every request counts. A series appears once a request adds to it, as
 * upstream's vectors do.
 */
export function registerRestClientMetrics(registry: Registry): RestClientMetricSet {
  const requests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host.',
    labelNames: ['code', 'host', 'method'],
    registers: [registry],
  });
  const latency = byVerbAndHost(
    registry,
    'rest_client_request_duration_seconds',
    'Request latency in seconds. Broken down by verb, and host.',
    LATENCY_BUCKETS,
  );
  const requestSize = byVerbAndHost(
    registry,
    'rest_client_request_size_bytes',
    'Request size in bytes. Broken down by verb and host.',
    SIZE_BUCKETS,
  );
  const responseSize = byVerbAndHost(
    registry,
    'rest_client_response_size_bytes',
    'Response size in bytes. Broken down by verb and host.',
    SIZE_BUCKETS,
  );
  const rateLimiter = byVerbAndHost(
    registry,
    'rest_client_rate_limiter_duration_seconds',
    'Client side rate limiter latency in seconds. Broken down by verb, and host.',
    LATENCY_BUCKETS,
  );
  return {
    requestResult: (code, method, host) => requests.inc({ code, host, method }),
    requestLatency: (verb, host, seconds) => latency.observe({ host, verb }, seconds),
    requestSize: (verb, host, bytes) => requestSize.observe({ host, verb }, bytes),
    responseSize: (verb, host, bytes) => responseSize.observe({ host, verb }, bytes),
    rateLimiterLatency: (verb, host, seconds) => rateLimiter.observe({ host, verb }, seconds),
  };
}
