import { execFile } from 'node:child_process';
import { join } from 'node:path';

import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { createNetns } from '@nodeagent/testing';
import { containerdToolModule } from './agent-bundles-dir';
import { chooseContainerd, containerdLine, type DemoContainerdVersion } from './containerd-choice';

/** The "node": where pods run (a CRI endpoint) and the network namespace the agents run in. */
export interface NodeRuntime {
  kind: 'containerd' | 'fake';
  /** CRI endpoint for the kubelet. */
  endpoint: string;
  /** The node's network namespace; undefined for the fake runtime without root. */
  netnsPath?: string;
  netnsName?: string;
  podSubnet: string;
  /** The node's InternalIP: the pod bridge's gateway address inside the namespace. */
  nodeIP: string;
  /** Image the workload's containers use (imported locally, never pulled). */
  image: string;
  /** Where containerd logs (real runtime only). */
  logFile?: string;
  /** The containerd series it runs and the line that says which and why (real runtime only). */
  containerd?: { version: DemoContainerdVersion; line: string };
  stop(): Promise<void>;
}

interface ToolsContainerd {
  readInstanceInfo(baseDir: string): Promise<unknown>;
  stopContainerdInstance(info: unknown): Promise<void>;
  containerd21Available(): boolean;
  startContainerd(opts?: {
    version?: DemoContainerdVersion;
    images?: boolean;
    detached?: boolean;
    baseDir?: string;
    podSubnet?: string;
  }): Promise<{
    endpoint: string;
    netns: string;
    netnsPath: string;
    podSubnet: string;
    logFile: string;
    version: DemoContainerdVersion;
    runc?: string;
    images?: { busybox: { name: string } };
    stop(): Promise<void>;
  }>;
}

/** Stops the containerd of a run that died without teardown (from its `instance.json`). */
export async function stopStaleContainerd(baseDir: string): Promise<void> {
  const tools = (await import(containerdToolModule())) as ToolsContainerd;
  await tools.stopContainerdInstance(await tools.readInstanceInfo(baseDir));
}

/** First usable address of a /24 pod subnet: the CNI bridge's gateway. */
export function gatewayOf(podSubnet: string): string {
  const [base] = podSubnet.split('/');
  const parts = (base ?? '').split('.').map(Number);
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join('.');
}

export interface ContainerdRuntimeOptions {
  /** containerd's root, state, socket, CNI config and log go here (under the run's state dir). */
  baseDir: string;
  /** The CNI bridge's pod subnet; default a random /24 (the single-node box). */
  podSubnet?: string;
  /**
   * Give the namespace the `uplink0` default route (the single-node box). The multi-node box
   * joins the namespace to its fabric instead, which brings the default route.
   */
  uplink: boolean;
}

export async function startContainerdRuntime(options: ContainerdRuntimeOptions): Promise<NodeRuntime> {
  const tools = (await import(containerdToolModule())) as ToolsContainerd;
  // Picked here, not left to tools/containerd, whose default without NODEAGENT_CONTAINERD is 1.6:
  // the demo prefers 2.1 when it is unpacked (containerd-choice.ts).
  const choice = chooseContainerd(process.env, () => tools.containerd21Available());
  // detached: its own process group, so Ctrl-C does not stop containerd before the demo's
  // teardown has stopped the pods through it.
  const c = await tools.startContainerd({
    version: choice.version,
    images: true,
    detached: true,
    baseDir: options.baseDir,
    podSubnet: options.podSubnet,
  });
  try {
    if (options.uplink) await addUplink(c.netnsPath);
  } catch (error) {
    await c.stop();
    throw error;
  }
  return {
    kind: 'containerd',
    endpoint: c.endpoint,
    netnsPath: c.netnsPath,
    netnsName: c.netns,
    podSubnet: c.podSubnet,
    nodeIP: gatewayOf(c.podSubnet),
    image: c.images?.busybox.name ?? 'localhost/nodeagent/busybox:1.0',
    logFile: c.logFile,
    containerd: { version: c.version, line: containerdLine(choice, c.runc) },
    stop: () => c.stop(),
  };
}

/**
 * A real node has a default route; the fresh namespace has none, and a connect() to a ClusterIP
 * fails with ENETUNREACH before kube-proxy's nat OUTPUT rules ever see the packet. An
 * "uplink" with a default route gives the kernel a route, then DNAT re-routes to the pod bridge.
 * It lives in the node namespace and goes away with it.
 */
async function addUplink(netnsPath: string): Promise<void> {
  const ip = (...args: string[]) => runIn(netnsPath, 'ip', args);
  // A veth pair, both ends inside (this kernel has no dummy driver; the CNI bridge needs veth anyway).
  await ip('link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1');
  await ip('link', 'set', 'uplink1', 'up');
  await ip('link', 'set', 'uplink0', 'up');
  await ip('route', 'add', 'default', 'dev', 'uplink0');
}

function runIn(netnsPath: string, command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('nsenter', [`--net=${netnsPath}`, '--', command, ...args], (error, _stdout, stderr) =>
      error
        ? reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`))
        : resolve(),
    ),
  );
}

const fakeImage = 'localhost/nodeagent/busybox:1.0';

/**
 * The fake CRI runtime (in this process, on a unix socket). With root, kube-proxy still gets a
 * network namespace of its own to program (but there are no real pods to send packets to).
 */
export async function startFakeRuntime(
  withNetns: boolean,
  stateDir: string,
  podSubnet = '10.88.0.0/16',
): Promise<NodeRuntime> {
  const fake = await FakeRuntime.start({
    // In the run's state dir, so a run killed before its teardown leaves nothing the next
    // run's stale-run clean-up (which removes that dir) does not remove.
    socketPath: join(stateDir, 'cri.sock'),
    podSubnet,
    images: [{ ref: fakeImage }, { ref: 'localhost/nodeagent/pause:1.0' }],
  });
  const netns = withNetns ? await createNetns({ purpose: 'demo' }).catch(() => undefined) : undefined;
  return {
    kind: 'fake',
    endpoint: fake.endpoint,
    netnsPath: netns?.path,
    netnsName: netns?.name,
    podSubnet,
    nodeIP: gatewayOf(podSubnet),
    image: fakeImage,
    async stop() {
      await fake.stop();
      await netns?.delete();
    },
  };
}
