import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningChild, startChild } from './child-process';
import type { ProxyMode } from './demo-options';
import { demoKubeletConfiguration, renderKubeletConfiguration } from './kubelet-config';
import type { NodeRuntime } from './node-runtime';

/** The kubelet's server port (upstream's default, which the demo's KubeletConfiguration keeps). */
export const KUBELET_PORT = 10250;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const demoSrc = fileURLToPath(new URL('./', import.meta.url));
/** A directory holding upstream's kernel tunables, read by the demo's kubelets as /proc/sys. */
const upstreamSysctlRoot = join(repoRoot, 'apps/kubelet/test/fixtures/proc-sys-upstream');

/**
 * How each agent's process starts: the arguments node gets before the agent's own flags. The
 * demo's `npm start` runs them from one bundle each (main.ts: bundledAgentEntries); without one
 * they run from their TypeScript sources through tsx (sourceAgentEntries).
 */
export interface AgentEntries {
  kubelet: string[];
  kubeProxy: string[];
  /** apps/demo/src/netns-relay.ts. */
  relays: string[];
}

/** The sources, run by node with tsx and the workspace source condition (no build, no bundle). */
export function sourceAgentEntries(): AgentEntries {
  const tsEntry = (script: string) => ['--conditions=@nodeagent/source', '--import', 'tsx', script];
  return {
    kubelet: tsEntry(join(repoRoot, 'apps/kubelet/src/cli.ts')),
    kubeProxy: tsEntry(join(repoRoot, 'apps/kube-proxy/src/cli.ts')),
    relays: tsEntry(join(demoSrc, 'netns-relay.ts')),
  };
}

/** Where one node's files go and what it is called; see nodeLayout. */
export interface NodeLayout {
  /** 1-based. */
  index: number;
  name: string;
  /** kubelet.conf, kubelet-config.yaml, kubelet/ (root dir, pki), pod-logs/, containerd/. */
  dir: string;
  /** kubelet.log, kube-proxy.log, relays.log. */
  logsDir: string;
}

/**
 * The single-node box keeps the layout it always had (node `nodeagent-demo-node`, its files
 * straight in the state dir); with --nodes N the nodes are `nodeagent-demo-node-<i>`, each with
 * a directory of its own, so no two kubelets share a file.
 */
export function nodeLayout(stateDir: string, index: number, count: number): NodeLayout {
  if (count === 1) {
    return { index, name: 'nodeagent-demo-node', dir: stateDir, logsDir: join(stateDir, 'logs') };
  }
  const name = `nodeagent-demo-node-${index}`;
  return { index, name, dir: join(stateDir, name), logsDir: join(stateDir, 'logs', name) };
}

export interface NodeAgentsSpec {
  layout: NodeLayout;
  runtime: NodeRuntime;
  /** The node's InternalIP (--node-ip). */
  nodeIP: string;
  /** The API server's port on host loopback (the in-namespace relay listens on the same port). */
  apiPort: number;
  /** The unix socket the demo's host-side relay serves (to the API server). */
  apiSocket: string;
  /** The admin kubeconfig (kube-proxy uses it). */
  kubeconfig: string;
  /** The bootstrap-token kubeconfig the kubelet joins with. */
  bootstrapKubeconfig: string;
  proxyMode: ProxyMode;
  /** kube-proxy's --cluster-cidr. */
  clusterCIDR: string;
  /** How the agents start (sourceAgentEntries when undefined). */
  entries?: AgentEntries;
  /** The kubelet's nodeLeaseDurationSeconds (--node-lease-duration; upstream's 40 when undefined). */
  nodeLeaseDurationSeconds?: number;
}

/**
 * One node's agents: the relay process (API server ↔ namespace), the kubelet and kube-proxy, each a
 * child process inside the node's network namespace. The kubelet and kube-proxy can be stopped
 * and started again (what a scenario does to show a node without one of them).
 */
export interface NodeAgents {
  readonly layout: NodeLayout;
  /** The unix socket the API server dials to reach this kubelet's server (undefined without a namespace). */
  readonly kubeletSocket: string | undefined;
  /** The running kubelet, undefined while stopped. */
  readonly kubelet: RunningChild | undefined;
  /** The running kube-proxy, undefined while stopped or without a namespace. */
  readonly kubeProxy: RunningChild | undefined;
  /** Every child this node has started so far (for failure watching and leak checks). */
  readonly started: RunningChild[];
  startKubelet(): Promise<RunningChild>;
  stopKubelet(): Promise<void>;
  /** Undefined without a network namespace (the fake runtime without root). */
  startKubeProxy(): RunningChild | undefined;
  stopKubeProxy(): Promise<void>;
  /** Stops everything this node's agents run (kube-proxy, kubelet, relays). */
  stop(): Promise<void>;
}

/** Starts the relays (when the node has a namespace); the kubelet and kube-proxy start on request. */
export async function prepareNodeAgents(spec: NodeAgentsSpec): Promise<NodeAgents> {
  const { layout, runtime } = spec;
  const entries = spec.entries ?? sourceAgentEntries();
  await mkdir(layout.logsDir, { recursive: true });
  await mkdir(layout.dir, { recursive: true });
  const started: RunningChild[] = [];
  const relays: RunningChild[] = [];
  let kubeletSocket: string | undefined;
  if (runtime.netnsPath) {
    // One relay process in the namespace carries both directions: the API server listens on host
    // loopback, so a listener on the same port in there forwards over the host's unix socket (one
    // kubeconfig serves kubectl and the agents); and a unix socket the API server dials is relayed
    // to the kubelet's port on the node IP (kubectl logs, exec, port-forward).
    kubeletSocket = join(layout.dir, 'kubelet.sock');
    const relay = startChild({
      name: `relays${suffix(layout)}`,
      command: process.execPath,
      args: [
        ...entries.relays,
        '--port',
        String(spec.apiPort),
        '--unix',
        spec.apiSocket,
        '--kubelet-unix',
        kubeletSocket,
        '--kubelet',
        `${spec.nodeIP}:${KUBELET_PORT}`,
      ],
      cwd: repoRoot,
      logFile: join(layout.logsDir, 'relays.log'),
      netnsPath: runtime.netnsPath,
    });
    relays.push(relay);
    started.push(relay);
  }

  const kubeletConfigPath = join(layout.dir, 'kubelet-config.yaml');
  await writeFile(
    kubeletConfigPath,
    renderKubeletConfiguration(
      demoKubeletConfiguration({
        podLogsDir: join(layout.dir, 'pod-logs'),
        volumePluginDir: join(layout.dir, 'volume-plugins'),
        ownNetns: Boolean(runtime.netnsPath),
        nodeLeaseDurationSeconds: spec.nodeLeaseDurationSeconds,
      }),
    ),
  );
  const kubeletFlags = [
    // The kubelet joins as kubeadm's nodes do: with a bootstrap token it sends a CSR, which the
    // API server's approver and signer turn into its client certificate (TLS bootstrapping).
    // A restarted kubelet finds kubelet.conf and its certificate and skips the bootstrap.
    '--bootstrap-kubeconfig',
    spec.bootstrapKubeconfig,
    '--kubeconfig',
    join(layout.dir, 'kubelet.conf'),
    '--cert-dir',
    join(layout.dir, 'kubelet', 'pki'),
    '--rotate-certificates=true',
    '--hostname-override',
    layout.name,
    '--container-runtime-endpoint',
    runtime.endpoint,
    '--root-dir',
    join(layout.dir, 'kubelet'),
    '--node-ip',
    spec.nodeIP,
    '--config',
    kubeletConfigPath,
    '--v',
    '2',
  ];

  let kubelet: RunningChild | undefined;
  let kubeProxy: RunningChild | undefined;
  const agents: NodeAgents = {
    layout,
    kubeletSocket,
    get kubelet() {
      return kubelet;
    },
    get kubeProxy() {
      return kubeProxy;
    },
    started,
    async startKubelet() {
      if (kubelet) return kubelet;
      kubelet = startChild({
        name: `kubelet${suffix(layout)}`,
        command: process.execPath,
        args: [...entries.kubelet, ...kubeletFlags],
        cwd: repoRoot,
        // The demo's nodes share this machine's kernel: their kubelets read upstream's tunables
        // from the repository instead of rewriting the machine's vm.* and kernel.* settings.
        env: { ...process.env, NODEAGENT_KUBELET_SYSCTL_ROOT: upstreamSysctlRoot },
        logFile: join(layout.logsDir, 'kubelet.log'),
        netnsPath: runtime.netnsPath,
      });
      started.push(kubelet);
      return kubelet;
    },
    async stopKubelet() {
      const running = kubelet;
      kubelet = undefined;
      await running?.stop();
    },
    startKubeProxy() {
      if (kubeProxy || !runtime.netnsPath) return kubeProxy;
      kubeProxy = startChild({
        name: `kube-proxy${suffix(layout)}`,
        command: process.execPath,
        args: [
          ...entries.kubeProxy,
          '--kubeconfig',
          spec.kubeconfig,
          '--hostname-override',
          layout.name,
          '--proxy-mode',
          spec.proxyMode,
          '--cluster-cidr',
          spec.clusterCIDR,
          '--v',
          '2',
        ],
        cwd: repoRoot,
        logFile: join(layout.logsDir, 'kube-proxy.log'),
        netnsPath: runtime.netnsPath,
      });
      started.push(kubeProxy);
      return kubeProxy;
    },
    async stopKubeProxy() {
      const running = kubeProxy;
      kubeProxy = undefined;
      await running?.stop();
    },
    async stop() {
      await agents.stopKubeProxy();
      await agents.stopKubelet();
      for (const relay of relays) await relay.stop();
    },
  };
  return agents;
}

/** Child names carry the node's name when there are several nodes ("kubelet on nodeagent-demo-node-2"). */
function suffix(layout: NodeLayout): string {
  return layout.name === 'nodeagent-demo-node' ? '' : ` on ${layout.name}`;
}
