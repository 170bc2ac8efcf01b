/**
 * Where this package's API requests report themselves, as client-go's `tools/metrics` hooks
 * (`metrics.Register`): a process has one set, which a binary connects to the registry it serves
 * on /metrics (upstream: component-base's `rest_client_*` metrics, registered at init). With none
 * connected, requests record nothing.
 */

/**
 * The observations client-go's rest.Request makes for each API request (request.go). `verb` and
 * `method` are the HTTP method (`GET`, `POST`…), `host` the API server's `host:port` as its URL
 * writes it; `code` is the HTTP status, or `<error>` when no answer came.
 */
export interface RestClientMetrics {
  /** rest_client_requests_total: one per answer (lists, writes and watches alike). */
  requestResult(code: string, method: string, host: string): void;
  /** rest_client_request_duration_seconds: a whole request (not a watch), from start to answer read. */
  requestLatency(verb: string, host: string, seconds: number): void;
  /** rest_client_request_size_bytes: the body sent (0 for none), per request that is not a watch. */
  requestSize(verb: string, host: string, bytes: number): void;
  /** rest_client_response_size_bytes: the body received, per request that is not a watch. */
  responseSize(verb: string, host: string, bytes: number): void;
  /** rest_client_rate_limiter_duration_seconds: time a request waited for the client's rate limiter. */
  rateLimiterLatency(verb: string, host: string, seconds: number): void;
}

let connected: RestClientMetrics | undefined;

/**
 * Makes every later API request of this process (apiRequest, the typed requests, KubeListerWatcher
 * lists and watches, rateLimitedKubeConfig waits) report to `metrics`; undefined disconnects.
 * Process-wide, as client-go's: the kubelet and kube-proxy executables connect theirs at start.
 */
export function setRestClientMetrics(metrics: RestClientMetrics | undefined): void {
  connected = metrics;
}

/** The connected metrics, if any (read per request, so a later connection counts from then on). */
export function restClientMetrics(): RestClientMetrics | undefined {
  return connected;
}

/** The `host` label of a request to `url`: host and port as client-go's `URL.Host`. */
export function hostLabel(url: URL): string {
  return url.host;
}

/**
 * One non-watch request's observations, recorded as client-go's Request.request() and Do() make
 * them: the rate limiter is outside (rateLimitedKubeConfig), the rest here.
 */
export class RequestObservation {
  private readonly started = performance.now();
  private readonly metrics = restClientMetrics();
  private readonly host: string;
  private hasAnswer = false;

  constructor(
    private readonly verb: string,
    url: URL,
  ) {
    this.host = hostLabel(url);
  }

  /**
   * The request went out with a body of `bytes` and got `status` (undefined: it failed without an
   * answer). Only the first call counts: a failure after the answer came is not a second result.
   */
  answered(bytes: number, status: number | undefined): void {
    if (this.hasAnswer) return;
    this.hasAnswer = true;
    this.metrics?.requestSize(this.verb, this.host, bytes);
    this.metrics?.requestResult(resultCode(status), this.verb, this.host);
  }

  /** The answer's body was read whole (client-go's Do observes it then). */
  read(bytes: number): void {
    this.metrics?.responseSize(this.verb, this.host, bytes);
  }

  /**
   * Runs `exchange` (send, answer, read whole) as this request: a failure before an answer came
   * is a `<error>` result with `sent` bytes, and the latency is observed however it ends.
   */
  async around<T>(sent: number, exchange: () => Promise<T>): Promise<T> {
    try {
      return await exchange();
    } catch (error) {
      this.answered(sent, undefined);
      throw error;
    } finally {
      this.metrics?.requestLatency(this.verb, this.host, (performance.now() - this.started) / 1000);
    }
  }
}

/** client-go's `code` label: the HTTP status, or `<error>` when no answer came. */
function resultCode(status: number | undefined): string {
  return status === undefined ? '<error>' : String(status);
}

/**
 * A watch request's answer, `status` (undefined: it failed without one). client-go's Watch records
 * only this: watches are not rate limited, and neither timed nor sized, as they last minutes.
 */
export function recordWatchResult(url: URL, status: number | undefined): void {
  restClientMetrics()?.requestResult(resultCode(status), 'GET', hostLabel(url));
}
