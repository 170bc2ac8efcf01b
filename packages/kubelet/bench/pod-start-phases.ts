/**
 * Per-pod timestamps of the pod-start path, for the benchmark's phase breakdown: a PodRuntime and
 * a PodStatusWriter wrapped so every call is attributed to its pod and timed against the start
 * of the burst.
 */

import type { Pod, PodStatus } from '../src/entries/api';
import type { PodStatusWriter } from '../src/entries/pod';
import type { PodRuntime } from '../src/index';

export type Phase =
  | 'delivered'
  | 'sandboxStart'
  | 'sandboxDone'
  | 'containerCreated'
  | 'containerStarted'
  | 'patchRunningSent'
  | 'patchRunningAcked'
  | 'watcherRunning';

export class PhaseRecorder {
  private origin: number;
  private readonly times = new Map<string, Partial<Record<Phase, number>>>();
  private readonly sandboxPod = new Map<string, string>();
  private readonly containerPod = new Map<string, string>();
  /** CRI calls made for a pod, by method name (the cost of one pod's start). */
  readonly calls = new Map<string, number>();

  constructor(origin = performance.now()) {
    this.origin = origin;
  }

  /** Times from now on count from here (the start of the burst). */
  restart(origin = performance.now()): void {
    this.origin = origin;
    this.times.clear();
  }

  /** Records the first time (now, or `at` on the performance clock) a pod reached a phase. */
  mark(podName: string, phase: Phase, at = performance.now()): void {
    let entry = this.times.get(podName);
    if (!entry) {
      entry = {};
      this.times.set(podName, entry);
    }
    entry[phase] ??= at - this.origin;
  }

  /** The median time (ms after the burst started) each phase was reached. */
  medians(): Partial<Record<Phase, number>> {
    const phases = new Set([...this.times.values()].flatMap((entry) => Object.keys(entry) as Phase[]));
    const result: Partial<Record<Phase, number>> = {};
    for (const phase of phases) {
      const values = [...this.times.values()]
        .map((entry) => entry[phase])
        .filter((v): v is number => v !== undefined)
        .sort((a, b) => a - b);
      result[phase] = Math.round(values[Math.floor((values.length - 1) / 2)]!);
    }
    return result;
  }

  /** A runtime that records the sandbox and container steps of each pod. */
  wrapRuntime(runtime: PodRuntime): PodRuntime {
    const count = (method: string) => this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const counted = new Proxy(runtime, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || prop === 'containerEvents') return value;
        return (...args: unknown[]) => {
          count(String(prop));
          return value.apply(target, args);
        };
      },
    });
    return {
      ...counted,
      listPods: () => counted.listPods(),
      podStatus: counted.podStatus ? (uid) => counted.podStatus!(uid) : undefined,
      containerEvents: runtime.containerEvents?.bind(runtime),
      runPodSandbox: async (config) => {
        const name = config.metadata?.name ?? '';
        this.mark(name, 'sandboxStart');
        const id = await counted.runPodSandbox(config);
        this.sandboxPod.set(id, name);
        this.mark(name, 'sandboxDone');
        return id;
      },
      createContainer: async (sandboxId, config, sandboxConfig) => {
        const id = await counted.createContainer(sandboxId, config, sandboxConfig);
        const name = this.sandboxPod.get(sandboxId) ?? '';
        this.containerPod.set(id, name);
        this.mark(name, 'containerCreated');
        return id;
      },
      startContainer: async (id) => {
        await counted.startContainer(id);
        this.mark(this.containerPod.get(id) ?? '', 'containerStarted');
      },
    };
  }

  /** A status writer that records when a pod's Running status is sent and acknowledged. */
  wrapWriter(writer: PodStatusWriter): PodStatusWriter {
    return {
      patchStatus: async (pod: Pod, status: PodStatus) => {
        const running = status.phase === 'Running';
        if (running) this.mark(pod.metadata.name ?? '', 'patchRunningSent');
        await writer.patchStatus(pod, status);
        if (running) this.mark(pod.metadata.name ?? '', 'patchRunningAcked');
      },
      deletePod: writer.deletePod?.bind(writer),
    };
  }
}
