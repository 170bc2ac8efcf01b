import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeletConfiguration } from '@nodeagent/kubelet';
import type { Morph } from './hollow-flags';
import { type HollowKubelet, nodeRootDir, startHollowKubelet } from './hollow-kubelet';
import type { HollowLogger } from './hollow-logger';
import { type HollowProxy, startHollowProxy } from './hollow-proxy';
import { type HollowRuntime, startHollowRuntime } from './hollow-runtime';
import { nodeAddresses } from './node-addresses';
import { hollowUserAgent, nodeKubeConfig } from './node-identity';
import type { SharedMachine } from './shared-machine';

/** One hollow node: its halves as --morph asks, and its fake runtime. */
export interface HollowNode {
  name: string;
  hostIP: string;
  podSubnet: string;
  /** The kubelet half (undefined with --morph proxy). */
  kubelet: HollowKubelet | undefined;
  /** The kube-proxy half (undefined with --morph kubelet). */
  proxy: HollowProxy | undefined;
  runtime: HollowRuntime | undefined;
  stop(): Promise<void>;
}

/** What every node of a process shares. */
export interface HollowNodeShared {
  kubeConfig: KubeConfig;
  config: KubeletConfiguration;
  morph: Morph;
  version: string;
  runDir: string;
  machine: SharedMachine;
  logger: (nodeName: string) => HollowLogger;
}

/** Starts node `index` named `name`; a failure stops what had started and rethrows. */
export async function startHollowNode(
  index: number,
  name: string,
  shared: HollowNodeShared,
): Promise<HollowNode> {
  const { hostIP, podSubnet } = nodeAddresses(index);
  const kubeConfig = nodeKubeConfig(shared.kubeConfig, hollowUserAgent(shared.version, name));
  const logger = shared.logger(name);
  let runtime: HollowRuntime | undefined;
  let kubelet: HollowKubelet | undefined;
  let proxy: HollowProxy | undefined;
  const stop = async () => {
    await proxy?.stop();
    await kubelet?.stop();
    await runtime?.stop();
  };
  try {
    if (shared.morph !== 'proxy') {
      runtime = await startHollowRuntime(podSubnet);
      kubelet = await startHollowKubelet({
        nodeName: name,
        hostIP,
        kubeConfig,
        config: shared.config,
        rootDir: nodeRootDir(shared.runDir, name),
        runtime,
        machine: shared.machine,
        logger,
      });
    }
    if (shared.morph !== 'kubelet') proxy = startHollowProxy(name, kubeConfig, logger);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { name, hostIP, podSubnet, kubelet, proxy, runtime, stop };
}
