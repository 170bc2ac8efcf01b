/**
 * The benchmark's baseline: the same pods started straight through @nodeagent/cri-client —
 * RunPodSandbox, CreateContainer, StartContainer and nothing else — with at most `parallel`
 * pods in flight. What containerd itself needs; the kubelet can only add to it.
 */
import { mkdir } from 'node:fs/promises';
import type { CriClient } from '@nodeagent/cri-client';
import type { Pod } from '../src/entries/api';
import { buildContainerConfig, buildSandboxConfig } from '../src/entries/cri';

export async function startPodsThroughCri(
  client: CriClient,
  pods: Pod[],
  options: { parallel: number; podLogsDir: string },
): Promise<number[]> {
  const origin = performance.now();
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < pods.length) {
      const pod = pods[next++]!;
      const sandboxConfig = buildSandboxConfig(pod, {
        clusterDNS: [],
        clusterDomain: 'cluster.local',
        attempt: 0,
        podLogsDir: options.podLogsDir,
      });
      await mkdir(sandboxConfig.logDirectory ?? options.podLogsDir, { recursive: true });
      const { podSandboxId } = await client.runPodSandbox(
        { config: sandboxConfig, runtimeHandler: '' },
        START_CALL,
      );
      for (const container of pod.spec.containers) {
        const config = buildContainerConfig(pod, container, {
          restartCount: 0,
          env: [],
          volumes: new Map(),
          memoryCapacity: 4e9,
        });
        const { containerId } = await client.createContainer({ podSandboxId, config, sandboxConfig });
        await client.startContainer({ containerId });
      }
      latencies.push(performance.now() - origin);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel, pods.length) }, worker));
  return latencies;
}

/** Stops and removes every sandbox (and so every container) the runtime holds. */
export async function removeAllSandboxes(client: CriClient): Promise<void> {
  const { items } = await client.listPodSandbox({});
  await Promise.all(
    items.map(async (sandbox) => {
      await client.stopPodSandbox({ podSandboxId: sandbox.id });
      await client.removePodSandbox({ podSandboxId: sandbox.id });
    }),
  );
}

/** One pod of the probed floor: when its container ran and when its first exec probe passed. */
export interface ProbedFloorPod {
  containerId: string;
  runningMs: number;
  readyMs: number;
  /** First execs containerd timed out before one answered. */
  execTimeouts: number;
}

/**
 * 500 sandboxes asked for at once queue in containerd for longer than the client's 2-minute
 * default deadline; a kubelet retries such a pod at its next sync, the floor waits instead (the
 * runtime's work is the same either way).
 */
const START_CALL = { timeoutMs: 15 * 60_000 };

/**
 * The max-pods floor: each pod's sandbox and container started straight through CRI (all pods
 * at once, as the kubelet does), then one ExecSync of `probe` in it right away — what the
 * kubelet's first readiness probe asks of containerd. Times are from `origin`.
 */
export async function startProbedPodsThroughCri(
  client: CriClient,
  pods: Pod[],
  options: { podLogsDir: string; probe: string[]; origin: number },
): Promise<ProbedFloorPod[]> {
  return Promise.all(
    pods.map(async (pod) => {
      const sandboxConfig = buildSandboxConfig(pod, {
        clusterDNS: [],
        clusterDomain: 'cluster.local',
        attempt: 0,
        podLogsDir: options.podLogsDir,
      });
      await mkdir(sandboxConfig.logDirectory ?? options.podLogsDir, { recursive: true });
      const { podSandboxId } = await client.runPodSandbox(
        { config: sandboxConfig, runtimeHandler: '' },
        START_CALL,
      );
      const container = pod.spec.containers[0]!;
      const config = buildContainerConfig(pod, container, {
        restartCount: 0,
        env: [],
        volumes: new Map(),
        memoryCapacity: 4e9,
      });
      const { containerId } = await client.createContainer(
        { podSandboxId, config, sandboxConfig },
        START_CALL,
      );
      await client.startContainer({ containerId }, START_CALL);
      const runningMs = performance.now() - options.origin;
      // containerd may time the exec out on a loaded machine: the floor asks again at once (a
      // kubelet would count a failed probe and wait a period), so this stays a lower bound.
      let execTimeouts = 0;
      for (;;) {
        try {
          await client.execSync({ containerId, cmd: options.probe, timeout: 1 });
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== 'DEADLINE_EXCEEDED') throw error;
          execTimeouts++;
        }
      }
      return { containerId, runningMs, readyMs: performance.now() - options.origin, execTimeouts };
    }),
  );
}
