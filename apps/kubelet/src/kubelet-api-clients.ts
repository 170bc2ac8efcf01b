import type { KubeConfig } from '@kubernetes/client-node';
import { rateLimitedKubeConfig, type TokenBucketOptions, TokenBucketRateLimiter } from '@nodeagent/informer';
import type { KubeletConfiguration } from '@nodeagent/kubelet';
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
  /** heartbeatClient: node status and the Lease, with QPS -1 (never waits). */
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
 * The kubelet's clients over `kubeConfig`: the main one behind kubeAPIQPS/kubeAPIBurst's bucket
 * (client-go's token bucket: a request waits for its token), the heartbeat and event clients
 * without it. `timing` is the bucket's clock (tests inject one).
 */
export function kubeletApiClients(
  kubeConfig: KubeConfig,
  config: Pick<KubeletConfiguration, 'kubeAPIQPS' | 'kubeAPIBurst'>,
  timing: Pick<TokenBucketOptions, 'now' | 'sleep'> = {},
): KubeletApiClients {
  const limiter = new TokenBucketRateLimiter({ ...kubeClientRate(config), ...timing });
  return { kube: rateLimitedKubeConfig(kubeConfig, limiter), heartbeat: kubeConfig, events: kubeConfig };
}
