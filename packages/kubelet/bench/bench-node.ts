/**
 * The node the kubelet benchmarks run on a real containerd: the containerd itself (tools/containerd,
 * its own instance in a network namespace, with a warm local busybox), the identity the kubelet
 * under test takes, when a pod counts as Running and as Ready for a watcher on the API server, and
 * the wait for what that watcher saw.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../src/entries/api';

/** The part of tools/containerd's RunningContainerd the benchmarks use. */
export interface ContainerdHandle {
  endpoint: string;
  /** containerd's own process, whose CPU and writes the benchmarks read from /proc. */
  pid: number;
  images: { busybox: { name: string } };
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Starts a private containerd with the local images imported; stop() tears all of it down. */
export async function startContainerd(): Promise<ContainerdHandle> {
  // Loaded by path so this package's typecheck does not pull in the tools project.
  const tools = (await import(join(root, 'tools/containerd/containerd.ts'))) as {
    startContainerd: () => Promise<ContainerdHandle>;
  };
  return tools.startContainerd();
}

/** The name of the node the kubelet under test runs as; the benchmarks' pods are bound to it. */
export const benchNodeName = 'bench-node';

/** The kubelet's node: the same identity and host facts in every benchmark, its state under rootDir. */
export function benchNode(rootDir: string) {
  return { name: benchNodeName, rootDir, hostIPs: ['192.168.80.2'], memoryCapacity: 4e9 };
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Running with every container running (the phase alone is Running while one still starts). */
export function isRunning(pod: Pod): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  return (
    pod.status?.phase === 'Running' &&
    statuses.length === pod.spec.containers.length &&
    statuses.every((s) => s.state.running !== undefined)
  );
}

/** Polls `probe` every `pollMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  probe: () => boolean,
  timeoutMs: number,
  what: string,
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
