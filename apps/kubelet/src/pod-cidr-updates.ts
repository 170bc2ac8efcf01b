import type { KubeConfig } from '@kubernetes/client-node';
import type { CriClient } from '@nodeagent/cri-client';
import type { KubeletLogger } from '@nodeagent/kubelet';
import {
  ApiNodePodCidrSource,
  nodePodCidr,
  nodePodCidrUpdateFailedMessage,
  podCidrUpdateFailedMessage,
  RuntimePodCidr,
} from '@nodeagent/kubelet/sources';
import { type Clock, parseDuration, systemClock } from '@nodeagent/primitives';
import type { ResolvedKubeletOptions } from './kubelet-flags';

/** What the runtime's pod CIDR is kept from: the config, the runtime and, with an API server, the Node. */
export interface PodCidrUpdateWiring {
  config: Pick<ResolvedKubeletOptions['config'], 'podCIDR' | 'nodeStatusUpdateFrequency'>;
  client: Pick<CriClient, 'updateRuntimeConfig'>;
  /** The main API client; none when standalone. */
  kubeConfig: KubeConfig | undefined;
  nodeName: string;
  logger: KubeletLogger;
  clock?: Clock;
}

/**
 * The runtime's pod CIDR as upstream's kubelet hands it over (CRI UpdateRuntimeConfig): the
 * config's podCIDR once the kubelet is built (NewMainKubelet: "Pod CIDR update failed" when the
 * runtime refuses; "" is no call), then with an API server the Node's spec.podCIDRs whenever the
 * runtime has another ("Error updating pod CIDR", tried again at the next status period).
 * Returns what stops the Node's watch.
 */
export async function startPodCidrUpdates(w: PodCidrUpdateWiring): Promise<() => Promise<void>> {
  const { config, logger } = w;
  const podCidr = new RuntimePodCidr(w.client, logger);
  await podCidr
    .update(config.podCIDR)
    .catch((error: Error) => logger.error({ err: error.message }, podCidrUpdateFailedMessage));
  if (!w.kubeConfig) return async () => undefined;
  const source = new ApiNodePodCidrSource({
    kubeConfig: w.kubeConfig,
    nodeName: w.nodeName,
    resyncMs: parseDuration(config.nodeStatusUpdateFrequency),
    clock: w.clock ?? systemClock,
    onNode: (node) => {
      const cidr = nodePodCidr(node);
      if (cidr === undefined) return;
      podCidr
        .update(cidr)
        .catch((error: Error) => logger.error({ err: error.message }, nodePodCidrUpdateFailedMessage));
    },
    onError: (error) => logger.warn({ err: String(error) }, 'node watch'),
  });
  source.start();
  return () => source.stop();
}
