/**
 * One real node of ours beside the hollow ones (issue #53: "requests per node per minute no more
 * than one real node of ours makes"): the nodeagent-kubelet and nodeagent-kube-proxy command lines,
 * bundled as the shipped executables are, each its own process, both in one throwaway network
 * namespace as a node's agents share one (kube-proxy programs real nftables there, never the
 * host's). They reach the bench's API server through a bridge into the namespace; the kubelet
 * runs its pods on the fake CRI runtime, served from this process over a unix socket.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import {
  type ApiServer,
  bridgeIntoNetns,
  cgroupMemory,
  createNetns,
  kubeconfigYaml,
  type Netns,
  type NetnsTcpBridge,
} from '@nodeagent/testing';
import { bundleAppCli } from '../../../tools/bundle/bundle-entry';

/** Upstream's kernel tunables, which the benched kubelet reads as /proc/sys (and so writes none). */
const upstreamSysctlRoot = fileURLToPath(
  new URL('../../kubelet/test/fixtures/proc-sys-upstream', import.meta.url),
);

/** A running real node: its name, its agents' process ids, and how to stop it. */
export interface RealNode {
  name: string;
  /** The kubelet's and kube-proxy's (nsenter execs them: these are the node processes). */
  pids: number[];
  /** The last 4,000 characters each agent wrote to stderr (for a failure's message). */
  logs(): string;
  stop(): Promise<void>;
}

/** The pause image, present from the start, and each image a pod names: pullable, running until stopped. */
const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
const RUN_UNTIL_STOPPED = ['sleep', 'infinity'];
const imageId = (ref: string) => `sha256:${createHash('sha256').update(ref).digest('hex')}`;

/**
 * The hollow kubelet's settings (run-hollow-nodes.ts: upstream's defaults, maxPods 110, a
 * cluster DNS address) plus what lets the kubelet leave the host's cgroups alone (as
 * apps/kubelet/bench/kubelet-process.ts starts it).
 */
function kubeletConfig(home: string): string {
  return [
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'kind: KubeletConfiguration',
    `podLogsDir: ${join(home, 'logs')}`,
    `volumePluginDir: ${join(home, 'volume-plugins')}`,
    'maxPods: 110',
    'clusterDNS: [10.96.0.10]',
    'clusterDomain: cluster.local',
    'cgroupsPerQOS: false',
    'enforceNodeAllocatable: []',
    'failCgroupV1: false',
    '',
  ].join('\n');
}

/**
 * Spawns `args` with node in `ns`, in a memory cgroup of its own (removed with `stops`), keeping
 * the tail of its stderr. With `privateMounts` it runs in a mount namespace of its own (unshare
 * execs it: the pid is the agent's): the tmpfs of its pods' secret, projected and downward-API
 * volumes never reach the host's mounts, and go with it.
 */
function spawnAgent(
  ns: Netns,
  args: string[],
  tails: Map<string, string>,
  name: string,
  stops: (() => Promise<void>)[],
  privateMounts = false,
): ChildProcess {
  // The kubelet's kernel tunables from upstream's values in the repository, never the host's /proc/sys.
  const env = { ...process.env, NODEAGENT_KUBELET_SYSCTL_ROOT: upstreamSysctlRoot };
  const [file, fileArgs] = privateMounts
    ? ['unshare', ['--mount', '--propagation', 'private', process.execPath, ...args]]
    : [process.execPath, args];
  const cgroup = cgroupMemory.tryCreate(`real-${name}`);
  if (cgroup) stops.push(() => cgroup.remove());
  const { command, args: argv } = cgroup ? cgroup.wrap(file, fileArgs) : { command: file, args: fileArgs };
  const child = ns.spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
  tails.set(name, '');
  child.stderr?.on('data', (b: Buffer) => tails.set(name, ((tails.get(name) ?? '') + b).slice(-4000)));
  return child;
}

/** SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(kill);
}

/** Starts node `name` (kubelet and kube-proxy) against `api`, its files under `dir`; `image` is the pods'. */
export async function startRealNode(
  api: ApiServer,
  dir: string,
  name: string,
  image: string,
): Promise<RealNode> {
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const tails = new Map<string, string>();
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const fake = await FakeRuntime.start({
      socketPath: join(home, 'cri.sock'),
      podSubnet: '10.250.0.0/24',
      images: [{ ref: PAUSE_IMAGE, id: imageId(PAUSE_IMAGE), entrypoint: RUN_UNTIL_STOPPED }],
    });
    stops.push(() => fake.stop());
    fake.addRegistryImage({ ref: image, id: imageId(image), entrypoint: RUN_UNTIL_STOPPED });
    const ns = await createNetns({ purpose: 'hollowreal' });
    stops.push(() => ns.delete());
    const bridge: NetnsTcpBridge = await bridgeIntoNetns(ns, api.port);
    stops.push(() => bridge.close());
    // The API server's own scheme and CA: over HTTPS its agents speak HTTP/2, as to a cluster's.
    const scheme = api.caCertificate ? 'https' : 'http';
    writeFileSync(
      join(home, 'kubeconfig'),
      kubeconfigYaml(`${scheme}://127.0.0.1:${bridge.port}`, api.caCertificate),
    );
    writeFileSync(join(home, 'config.yaml'), kubeletConfig(home));
    const kubelet = spawnAgent(
      ns,
      [
        bundleAppCli('kubelet'),
        ...['--config', join(home, 'config.yaml'), '--kubeconfig', join(home, 'kubeconfig')],
        ...['--hostname-override', name, '--node-ip', '127.0.0.1'],
        ...['--root-dir', join(home, 'root'), '--cert-dir', join(home, 'pki')],
        `--container-runtime-endpoint=${fake.endpoint}`,
      ],
      tails,
      'kubelet',
      stops,
      true,
    );
    stops.push(() => stopAgent(kubelet));
    const proxy = spawnAgent(
      ns,
      [
        bundleAppCli('kube-proxy'),
        ...['--kubeconfig', join(home, 'kubeconfig'), '--hostname-override', name],
        ...['--proxy-mode', 'nftables', '--cluster-cidr', '10.244.0.0/16'],
      ],
      tails,
      'kube-proxy',
      stops,
    );
    stops.push(() => stopAgent(proxy));
    return {
      name,
      pids: [kubelet.pid ?? 0, proxy.pid ?? 0],
      logs: () => [...tails].map(([agent, tail]) => `--- ${agent}:\n${tail}`).join('\n'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
