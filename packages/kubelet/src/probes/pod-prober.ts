import { type ProbedContainer, ProbeManager, type ProbeRunEvent, type ProbeSpec } from '@nodeagent/probes';
import type { Container, Pod } from '../api/pod-types';
import type { ProbeState } from '../pod/compute-pod-actions';
import type { PodRuntime } from '../runtime/pod-runtime';
import { findContainer, type PodRuntimeStatus } from '../runtime/runtime-state';

interface Registration {
  manager: ProbeManager;
  containerId: string;
  container: Container;
}

/**
 * Connects the pod engine to @nodeagent/probes: one probe manager per probed container instance
 * (so exec probes run through ExecSync in the right container), results read back as
 * readiness/startup for pod status and liveness/startup failures for computePodActions, and
 * every result change triggers a pod sync.
 */
export class PodProber {
  private readonly registrations = new Map<string, Registration>();
  private readonly runtime: PodRuntime;
  private readonly onChange: (podUid: string) => void;
  private readonly onRun: ((event: ProbeRunEvent) => void) | undefined;

  constructor(options: {
    runtime: PodRuntime;
    onChange: (podUid: string) => void;
    /** Every probe run (prober metrics). */
    onRun?: (event: ProbeRunEvent) => void;
  }) {
    this.runtime = options.runtime;
    this.onChange = options.onChange;
    this.onRun = options.onRun;
  }

  /** Starts probing new running container instances of the pod and stops probing gone ones. */
  update(pod: Pod, status: PodRuntimeStatus, podIP: string | undefined): void {
    const uid = pod.metadata.uid ?? '';
    const containers = [
      ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
      ...pod.spec.containers,
    ];
    const wanted = new Set<string>();
    for (const container of containers) {
      if (!container.livenessProbe && !container.readinessProbe && !container.startupProbe) continue;
      const current = findContainer(status, container.name);
      if (current?.state !== 'running' || !podIP) continue;
      const key = `${uid}/${container.name}/${current.id}`;
      wanted.add(key);
      if (this.registrations.has(key)) continue;
      this.register(key, uid, podIP, container, current.id, current.startedAt ?? current.createdAt);
    }
    for (const [key, registration] of this.registrations) {
      if (key.startsWith(`${uid}/`) && !wanted.has(key)) {
        void registration.manager.close();
        this.registrations.delete(key);
      }
    }
  }

  private register(
    key: string,
    uid: string,
    podIP: string,
    container: Container,
    containerId: string,
    startedAt: number,
  ): void {
    const manager = new ProbeManager({
      executor: async (command, timeoutMs) =>
        this.runtime.execSync(containerId, command, Math.max(1, Math.ceil(timeoutMs / 1000))),
      onRun: this.onRun,
    });
    const notify = () => this.onChange(uid);
    manager.readiness.subscribe(notify);
    manager.liveness.subscribe(notify);
    manager.startup.subscribe(notify);
    const probed: ProbedContainer = {
      name: container.name,
      ports: (container.ports ?? []).map((p) => ({
        name: p.name,
        containerPort: p.containerPort,
      })) as ProbedContainer['ports'],
      livenessProbe: container.livenessProbe as ProbeSpec | undefined,
      readinessProbe: container.readinessProbe as ProbeSpec | undefined,
      startupProbe: container.startupProbe as ProbeSpec | undefined,
    };
    manager.addContainer(uid, podIP, probed, () => ({ containerId, running: true, startedAt }));
    this.registrations.set(key, { manager, containerId, container });
    // A running container without a readiness result is probed at once (upstream's manual trigger
    // from UpdatePodStatus), so Ready follows Running instead of waiting up to a period.
    if (container.readinessProbe) manager.trigger(uid, container.name, 'Readiness');
  }

  private find(containerId: string): Registration | undefined {
    for (const registration of this.registrations.values())
      if (registration.containerId === containerId) return registration;
    return undefined;
  }

  /** Readiness for pod status: containers without a readiness probe are ready once started. */
  ready(containerId: string, container: Container): boolean {
    if (!container.readinessProbe) return this.started(containerId, container);
    return this.find(containerId)?.manager.readiness.get(containerId) === 'Success';
  }

  started(containerId: string, container: Container): boolean {
    if (!container.startupProbe) return true;
    return this.find(containerId)?.manager.startup.get(containerId) === 'Success';
  }

  /** ProbeState for computePodActions. */
  probeState(): ProbeState {
    return {
      livenessFailed: (id) => this.find(id)?.manager.liveness.get(id) === 'Failure',
      startupFailed: (id) => this.find(id)?.manager.startup.get(id) === 'Failure',
      started: (id) => {
        const registration = this.find(id);
        return registration ? this.started(id, registration.container) : true;
      },
    };
  }

  removePod(uid: string): void {
    for (const [key, registration] of this.registrations) {
      if (key.startsWith(`${uid}/`)) {
        void registration.manager.close();
        this.registrations.delete(key);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.registrations.values()].map((r) => r.manager.close()));
    this.registrations.clear();
  }
}
