import type { KubeletConfiguration } from '@nodeagent/kubelet';
import { contentTypeIsProtobuf } from '@nodeagent/kubelet/config';
import type { Morph } from './hollow-flags';
import { HollowIptables } from './hollow-iptables';
import { type HollowKubelet, nodeRootDir, startHollowKubelet } from './hollow-kubelet';
import type { HollowLogger } from './hollow-logger';
import { type HollowProxy, startHollowProxy } from './hollow-proxy';
import { type HollowRuntime, startHollowRuntime } from './hollow-runtime';
import { nodeAddresses } from './node-addresses';
import type { NodeCredentials } from './node-credentials';
import { hollowUserAgent, nodeKubeConfig } from './node-identity';
import type { SharedMachine } from './shared-machine';

/** One hollow node: its halves as --morph asks, and its fake runtime. */
export interface HollowNode {
  readonly name: string;
  readonly hostIP: string;
  readonly podSubnet: string;
  /** The kubelet half (undefined with --morph proxy, and while restarting). */
  readonly kubelet: HollowKubelet | undefined;
  /** The kube-proxy half (undefined with --morph kubelet, and while restarting). */
  readonly proxy: HollowProxy | undefined;
  readonly runtime: HollowRuntime | undefined;
  /**
   * Stops the node's agents and starts them again, as when a node's kubelet and kube-proxy
   * restart: the runtime's containers and the proxy's rules stay; the agents come back with new
   * connections and read their state again (each informer's initial list or watch-list stream).
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** What every node of a process shares. */
export interface HollowNodeShared {
  /** Each node's credentials: the kubeconfig's own, or its client certificate (--client-certificates). */
  credentials: NodeCredentials;
  config: KubeletConfiguration;
  morph: Morph;
  version: string;
  runDir: string;
  machine: SharedMachine;
  logger: (nodeName: string) => HollowLogger;
}

/** A node's running agents. */
interface NodeAgents {
  kubelet?: HollowKubelet;
  proxy?: HollowProxy;
}

async function stopAgents(agents: NodeAgents): Promise<void> {
  await agents.proxy?.stop();
  await agents.kubelet?.stop();
}

/** Starts node `index` named `name`; a failure stops what had started and rethrows. */
export async function startHollowNode(
  index: number,
  name: string,
  shared: HollowNodeShared,
): Promise<HollowNode> {
  const { hostIP, podSubnet } = nodeAddresses(index);
  const logger = shared.logger(name);
  // What outlives an agent restart, as on a real node: the runtime and the kernel's rules.
  const iptables = shared.morph === 'kubelet' ? undefined : new HollowIptables();
  let runtime: HollowRuntime | undefined;
  let agents: NodeAgents = {};

  const startAgents = async (): Promise<NodeAgents> => {
    // A view per agent and start: the node's user agent, and connections of its own, as the
    // kubelet and kube-proxy are two processes on a real node and a restart starts new ones.
    const credentials = await shared.credentials(name);
    const userAgent = hollowUserAgent(shared.version, name);
    const started: NodeAgents = {};
    try {
      if (runtime)
        started.kubelet = await startHollowKubelet({
          nodeName: name,
          hostIP,
          kubeConfig: nodeKubeConfig(credentials, userAgent),
          config: shared.config,
          rootDir: nodeRootDir(shared.runDir, name),
          runtime,
          machine: shared.machine,
          logger,
        });
      if (iptables)
        started.proxy = startHollowProxy(name, nodeKubeConfig(credentials, userAgent), logger, {
          iptables,
          protobuf: contentTypeIsProtobuf(shared.config.contentType),
        });
    } catch (error) {
      await stopAgents(started).catch(() => undefined);
      throw error;
    }
    return started;
  };

  const stop = async () => {
    // The runtime is stopped even when an agent's stop fails: nothing of the node is left running.
    try {
      await stopAgents(agents);
    } finally {
      agents = {};
      await runtime?.stop();
    }
  };
  try {
    if (shared.morph !== 'proxy') runtime = await startHollowRuntime(podSubnet);
    agents = await startAgents();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    name,
    hostIP,
    podSubnet,
    get kubelet() {
      return agents.kubelet;
    },
    get proxy() {
      return agents.proxy;
    },
    runtime,
    async restart() {
      const stopping = agents;
      agents = {};
      await stopAgents(stopping);
      agents = await startAgents();
    },
    stop,
  };
}
