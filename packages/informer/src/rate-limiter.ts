import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError } from '@nodeagent/primitives';
import { hostLabel, restClientMetrics } from './rest-client-metrics';

/** A token bucket's rate and size, as client-go's QPS and burst. */
export interface TokenBucketOptions {
  /** Sustained requests per second. */
  qps: number;
  /** Requests that may go at once after an idle period (the bucket's size). */
  burst: number;
  /** Milliseconds (tests inject a manual clock). */
  now?: () => number;
  /** Waits `ms` (tests inject one that resolves at once or on a manual clock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * client-go's token bucket (flowcontrol.NewTokenBucketRateLimiter): the bucket starts full with
 * `burst` tokens and refills at `qps` per second; each request takes one token, waiting for it
 * when the bucket is empty. Waiters reserve their token on arrival, so they go in order.
 */
export class TokenBucketRateLimiter {
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly o: TokenBucketOptions) {
    if (!(o.qps > 0)) throw new InvalidOptionError('qps', o.qps, 'must be greater than 0');
    if (!Number.isInteger(o.burst) || o.burst < 1) {
      throw new InvalidOptionError('burst', o.burst, 'must be an integer of at least 1');
    }
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? realSleep;
    this.tokens = o.burst;
    this.last = this.now();
  }

  /** Milliseconds the next request must wait, having reserved its token. */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.o.burst, this.tokens + ((t - this.last) / 1000) * this.o.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.o.qps) * 1000;
  }

  /** Resolves when the caller may send its request. */
  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.reserve();
    if (ms > 0) await this.sleep(ms, signal);
  }
}

/**
 * A view of `kubeConfig` whose every request waits for `limiter` first: KubeListerWatcher (and
 * anything else that authenticates through `applyToHTTPSOptions`) asks for it once per list or
 * watch request, which is what client-go's rate limiter counts. Each wait is reported to the
 * connected rest-client metrics (setRestClientMetrics) as rest_client_rate_limiter_duration_seconds.
 */
export function rateLimitedKubeConfig(kubeConfig: KubeConfig, limiter: TokenBucketRateLimiter): KubeConfig {
  const view = Object.create(kubeConfig) as KubeConfig;
  view.applyToHTTPSOptions = async (options) => {
    const started = performance.now();
    await limiter.wait();
    // A WebSocket's options (exec, attach) name no method: its handshake is a GET.
    const method = 'method' in options ? options.method : undefined;
    recordRateLimiterWait(view, method, (performance.now() - started) / 1000);
    return kubeConfig.applyToHTTPSOptions(options);
  };
  return view;
}

/** rest_client_rate_limiter_duration_seconds for one wait, as client-go's tryThrottle records it. */
function recordRateLimiterWait(kubeConfig: KubeConfig, method: string | undefined, seconds: number): void {
  const metrics = restClientMetrics();
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!metrics || !server) return;
  metrics.rateLimiterLatency(method ?? 'GET', hostLabel(new URL(server)), seconds);
}
