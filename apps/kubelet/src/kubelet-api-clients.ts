import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { rateLimitedKubeConfig, type TokenBucketOptions, TokenBucketRateLimiter } from '@nodeagent/informer';
import type { KubeletConfiguration } from '@nodeagent/kubelet';
import { parseDuration } from '@nodeagent/primitives';
import { StartupRefusedError } from './startup-checks';

/** client-go's rest.DefaultQPS: the rate a client configured with QPS 0 gets. */
export const clientGoDefaultQPS = 5;
/** client-go's rest.DefaultBurst: the burst a client configured with burst 0 gets. */
export const clientGoDefaultBurst = 10;

/** The message client-go's NewForConfig fails with for QPS > 0 and burst 0 (the kubelet then exits). */
export const zeroBurstReason =
  'failed to initialize kubelet client: burst is required to be greater than 0 when RateLimiter is not set and QPS is set to greater than 0';

/**
 * The three API clients upstream's run() makes from one kubeconfig. Each is a KubeConfig; the
 * certificate managers keep the loaded one, as upstream's have clientsets of their own.
 */
export interface KubeletApiClients {
  /**
   * kubeClient: every request (pod, secret and configmap reads, informers' lists and watches as
   * they are opened, pod status writes, mirror pods, Node registration, token and access reviews)
   * first waits for a token of one kubeAPIQPS/kubeAPIBurst bucket.
   */
  kube: KubeConfig;
  /**
   * heartbeatClient: node status and the Lease, with QPS -1 (never waits) and a timeout on each
   * request (heartbeatTimeoutMs), so a hung connection costs one heartbeat, not all that follow.
   */
  heartbeat: KubeConfig;
  /** eventClient: events; the event sink applies eventRecordQPS/eventBurst itself (apiEventSink). */
  events: KubeConfig;
}

/** The main client's token bucket for kubeAPIQPS/kubeAPIBurst, as client-go reads the two. */
export function kubeClientRate(
  config: Pick<KubeletConfiguration, 'kubeAPIQPS' | 'kubeAPIBurst'>,
): Pick<TokenBucketOptions, 'qps' | 'burst'> {
  const { kubeAPIQPS: qps, kubeAPIBurst: burst } = config;
  // kubernetes.NewForConfig makes one bucket for the clientset when QPS > 0 and refuses burst 0.
  if (qps > 0 && burst <= 0) throw new StartupRefusedError('kubeAPIBurst', burst, zeroBurstReason);
  // QPS 0 (only an explicit 0 in the file or --kube-api-qps=0; absent is 50): client-go's
  // RESTClientFor gives 5 QPS and, for burst 0, 10. Upstream gives each API group's client a bucket
  // of its own then; here the group clients share one (nearly all the kubelet's requests are core/v1).
  return { qps: qps === 0 ? clientGoDefaultQPS : qps, burst: burst === 0 ? clientGoDefaultBurst : burst };
}

/**
 * The heartbeat client's Timeout: nodeStatusUpdateFrequency, or the Lease's duration when that is
 * shorter (upstream's run()).
 */
export function heartbeatTimeoutMs(
  config: Pick<KubeletConfiguration, 'nodeStatusUpdateFrequency' | 'nodeLeaseDurationSeconds'>,
): number {
  return Math.min(parseDuration(config.nodeStatusUpdateFrequency), config.nodeLeaseDurationSeconds * 1000);
}

/** The settings the clients are made from. */
export type ApiClientSettings = Pick<
  KubeletConfiguration,
  'kubeAPIQPS' | 'kubeAPIBurst' | 'nodeStatusUpdateFrequency' | 'nodeLeaseDurationSeconds'
>;

/** What tests replace: the bucket's clock, and the signal that ends a heartbeat request. */
export interface ApiClientTiming extends Pick<TokenBucketOptions, 'now' | 'sleep'> {
  /** A signal aborted `ms` from now (default AbortSignal.timeout). */
  abortAfter?: (ms: number) => AbortSignal;
}

/**
 * The kubelet's clients over `kubeConfig`: the main one behind kubeAPIQPS/kubeAPIBurst's bucket
 * (client-go's token bucket: a request waits for its token), the heartbeat one with its timeout,
 * and the event one as loaded (the event sink limits it).
 */
export function kubeletApiClients(
  kubeConfig: KubeConfig,
  config: ApiClientSettings,
  { abortAfter = AbortSignal.timeout, ...bucketClock }: ApiClientTiming = {},
): KubeletApiClients {
  const limiter = new TokenBucketRateLimiter({ ...kubeClientRate(config), ...bucketClock });
  const timeoutMs = heartbeatTimeoutMs(config);
  return {
    kube: rateLimitedKubeConfig(kubeConfig, limiter),
    heartbeat: timedKubeConfig(kubeConfig, () => abortAfter(timeoutMs)),
    events: kubeConfig,
  };
}

/**
 * A view of `kubeConfig` whose requests are aborted when `deadline()`'s signal fires (client-go's
 * Config.Timeout: connecting, waiting for and reading the answer). Credentials, TLS material and
 * rotated certificates are read through from `kubeConfig`.
 */
function timedKubeConfig(kubeConfig: KubeConfig, deadline: () => AbortSignal): KubeConfig {
  const view = Object.create(kubeConfig) as KubeConfig;
  view.applyToHTTPSOptions = async (options) => {
    await kubeConfig.applyToHTTPSOptions(options);
    // A WebSocket's options take no signal; the heartbeat opens none.
    if ('method' in options) (options as RequestOptions).signal ??= deadline();
  };
  return view;
}
