import { isCriError } from '@nodeagent/cri-client';
import { type Clock, systemClock } from '@nodeagent/primitives';
import {
  type ProbedContainer,
  ProbeManager,
  type ProbeResultUpdate,
  type ProbeRunEvent,
  type ProbeSpec,
  type ProbeType,
} from '@nodeagent/probes';
import type { Container, Pod } from '../api/pod-types';
import { goGrpcError } from '../cri/go-grpc-error';
import type { PodRuntime } from '../cri/pod-runtime';
import { findContainer, type PodRuntimeStatus } from '../cri/runtime-state';
import { expandCommand } from '../env/resolve-env';
import {
  containerFieldPath,
  containerUnhealthyReason,
  type PodEventRecorder,
  probeErroredMessage,
  probeFailedMessage,
} from '../events/event-reasons';
import type { ProbeState } from './probe-state';
import { type LastKnownContainer, readyAcrossRestart, startedAcrossRestart } from './readiness-after-restart';

/**
 * Past timeoutSeconds, how long an exec probe waits for ExecSync before it counts as timed out:
 * beyond the CRI call's own deadline (timeoutSeconds + 10 s in criPodRuntime), which answers
 * first with DEADLINE_EXCEEDED, itself a timed-out probe.
 */
const EXEC_DEADLINE_GRACE_MS = 15_000;

/** First readiness runs of a pod's newly started containers, until they answered or the pod went. */
interface FirstRuns {
  done: Promise<void>;
  release: () => void;
}

/** A probed container instance. */
interface Probed {
  containerId: string;
}

/**
 * Connects the pod engine to @nodeagent/probes, like upstream's prober manager: one probe
 * manager for every pod (started with the kubelet, so only containers it adopts right after a
 * restart have their first probe spread), a worker per running container instance and probe,
 * exec probes through ExecSync in the probed instance; results read back as readiness/startup
 * for pod status and liveness/startup failures for computePodActions. Every result change is
 * reported with the update (the kubelet puts readiness/startup straight into the pod status and
 * syncs the pod).
 */
export class PodProber {
  private readonly manager: ProbeManager;
  /** When this prober (so the kubelet) started: containers running since well before kept their readiness. */
  private readonly startedAtMs: number;
  /** Per pod UID, the probed instance of each container name. */
  private readonly pods = new Map<string, Map<string, Probed>>();
  /**
   * Per pod UID, the probe types each container name was ever probed with. Upstream's workers
   * (and their metric series) outlive the container's instances and go with the pod, so this
   * outlives them too: a container that stopped before its pod was removed is still reported.
   */
  private readonly probeTypes = new Map<string, Map<string, Set<ProbeType>>>();
  /** Container spec by runtime container ID, for the lookups status generation makes. */
  private readonly specs = new Map<string, Container>();
  /** Per pod UID, the first readiness runs still in flight (see firstReadinessRuns). */
  private readonly firstRuns = new Map<string, FirstRuns>();
  private readonly onPodRemoved:
    | ((podUid: string, containerName: string, probeTypes: ProbeType[]) => void)
    | undefined;

  constructor(options: {
    runtime: PodRuntime;
    onChange: (podUid: string, update: ProbeResultUpdate) => void;
    /** Every probe run (prober metrics). */
    onRun?: (event: ProbeRunEvent) => void;
    /** A removed pod's container ever probed, even one stopped before, with its probe types (its metric series go). */
    onPodRemoved?: (podUid: string, containerName: string, probeTypes: ProbeType[]) => void;
    clock?: Clock;
    /** The Kubelet's event recorder: a failed probe run is a Warning `Unhealthy` event, as upstream's prober records it. */
    recordEvent?: PodEventRecorder;
    /** The pod of a UID, for its events. */
    podOf?: (podUid: string) => Pod | undefined;
  }) {
    const { runtime, onChange } = options;
    this.startedAtMs = (options.clock ?? systemClock).now();
    const recordProbeEvent = probeEventRecorder(options.recordEvent, options.podOf);
    this.onPodRemoved = options.onPodRemoved;
    this.manager = new ProbeManager({
      executor: (command, timeoutMs, containerId) =>
        runtime
          .execSync(containerId ?? '', command, Math.max(1, Math.ceil(timeoutMs / 1000)))
          .catch((error: unknown) => {
            throw execProbeError(error);
          }),
      // The runtime enforces timeoutSeconds from the exec's start and the CRI call has its own
      // deadline past it: a loaded node's slow exec set-up is not a failed probe (as upstream).
      execTimeoutGraceMs: EXEC_DEADLINE_GRACE_MS,
      // Upstream runs every worker's probe when it is due, with no node-wide bound: on a loaded
      // node ExecSync can take seconds, and 110 pods' probes in flight must not queue for a slot.
      maxConcurrentProbes: Number.MAX_SAFE_INTEGER,
      onRun: (event) => {
        options.onRun?.(event);
        recordProbeEvent?.(event);
      },
      clock: options.clock,
    });
    const notify = (update: ProbeResultUpdate) => onChange(update.podUID, update);
    this.manager.readiness.subscribe(notify);
    this.manager.liveness.subscribe(notify);
    this.manager.startup.subscribe(notify);
  }

  /** Starts probing new running container instances of the pod and stops probing gone ones. */
  update(pod: Pod, status: PodRuntimeStatus, podIP: string | undefined): void {
    const uid = pod.metadata.uid ?? '';
    let probed = this.pods.get(uid);
    const containers = [
      ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
      ...pod.spec.containers,
    ];
    const wanted = new Map<string, { container: Container; id: string; startedAt: number }>();
    for (const container of containers) {
      if (!container.livenessProbe && !container.readinessProbe && !container.startupProbe) continue;
      const current = findContainer(status, container.name);
      if (current?.state !== 'running' || !podIP) continue;
      wanted.set(container.name, {
        container,
        id: current.id,
        startedAt: current.startedAt ?? current.createdAt,
      });
    }
    if (!probed && wanted.size === 0) return;
    // Gone or replaced instances first: the manager holds one worker set per container name.
    for (const [name, instance] of probed ?? []) {
      if (wanted.get(name)?.id === instance.containerId) continue;
      this.stop(uid, name, instance);
      probed!.delete(name);
    }
    const firstRuns: Promise<void>[] = [];
    for (const [name, { container, id, startedAt }] of wanted) {
      if (probed?.has(name)) continue;
      if (!probed) {
        probed = new Map();
        this.pods.set(uid, probed);
      }
      this.manager.addContainer(uid, podIP!, toProbed(container), () => ({
        containerId: id,
        running: true,
        startedAt,
      }));
      probed.set(name, { containerId: id });
      this.specs.set(id, container);
      this.recordProbeTypes(uid, container);
      // A running container without a readiness result is probed at once (upstream's manual
      // trigger from UpdatePodStatus); a no-op when its worker's first run is already going.
      if (container.readinessProbe) {
        this.manager.trigger(uid, name, 'Readiness');
        firstRuns.push(this.manager.idle(uid, name, 'Readiness'));
      }
    }
    if (probed?.size === 0) this.pods.delete(uid);
    if (firstRuns.length > 0) this.awaitFirstRuns(uid, firstRuns);
  }

  /**
   * Resolves when the first readiness runs of the pod's containers that started since its last
   * sync have answered (or the pod stopped being probed); undefined when none is in flight. The
   * status manager holds the pod's API write until then, so the status that first reports a
   * container running already carries its first probe's verdict: one write instead of Running
   * then Ready a moment later (upstream's status manager, writing at its own pace, most often
   * coalesces the two as well).
   */
  firstReadinessRuns(uid: string): Promise<void> | undefined {
    return this.firstRuns.get(uid)?.done;
  }

  private awaitFirstRuns(uid: string, runs: Promise<void>[]): void {
    const prior = this.firstRuns.get(uid);
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry: FirstRuns = { done, release };
    this.firstRuns.set(uid, entry);
    void Promise.all([prior?.done, ...runs]).then(() => {
      if (this.firstRuns.get(uid) === entry) this.firstRuns.delete(uid);
      release();
    });
  }

  private releaseFirstRuns(uid: string): void {
    this.firstRuns.get(uid)?.release();
    this.firstRuns.delete(uid);
  }

  private recordProbeTypes(uid: string, container: Container): void {
    let byName = this.probeTypes.get(uid);
    if (!byName) {
      byName = new Map();
      this.probeTypes.set(uid, byName);
    }
    let types = byName.get(container.name);
    if (!types) {
      types = new Set();
      byName.set(container.name, types);
    }
    if (container.livenessProbe) types.add('Liveness');
    if (container.readinessProbe) types.add('Readiness');
    if (container.startupProbe) types.add('Startup');
  }

  private stop(uid: string, name: string, instance: Probed): void {
    this.manager.removeContainer(uid, name);
    this.specs.delete(instance.containerId);
  }

  /**
   * Readiness for pod status: containers without a readiness probe are ready once started. With
   * `last` (the pod's last status of this instance), a container running since before the kubelet
   * restarted keeps the pod's readiness until its first probe (readiness-after-restart.ts).
   */
  ready(containerId: string, container: Container, last?: LastKnownContainer): boolean {
    if (!this.started(containerId, container, last)) return false;
    const result = this.manager.readiness.get(containerId);
    return readyAcrossRestart(result, container.readinessProbe != null, last, this.startedAtMs);
  }

  /**
   * The container's `started` field: its startup probe has succeeded (true without a startup
   * probe). With `last`, a container running since before the kubelet restarted stays started.
   */
  started(containerId: string, container: Container, last?: LastKnownContainer): boolean {
    return startedAcrossRestart(this.manager.startup.get(containerId), container.startupProbe != null, last);
  }

  /** ProbeState for computePodActions. */
  probeState(): ProbeState {
    return {
      livenessFailed: (id) => this.manager.liveness.get(id) === 'Failure',
      startupFailed: (id) => this.manager.startup.get(id) === 'Failure',
      started: (id) => {
        const container = this.specs.get(id);
        return container ? this.started(id, container) : true;
      },
    };
  }

  /** Number of container instances probed (their per-pod state is freed on removePod). */
  get probedContainers(): number {
    return this.specs.size;
  }

  /** Stops probing every container of pod `uid` and drops their results (the pod is gone or stopped). */
  removePod(uid: string): void {
    this.releaseFirstRuns(uid);
    for (const [name, instance] of this.pods.get(uid) ?? []) this.stop(uid, name, instance);
    this.pods.delete(uid);
    for (const [name, types] of this.probeTypes.get(uid) ?? []) this.onPodRemoved?.(uid, name, [...types]);
    this.probeTypes.delete(uid);
  }

  /** Stops every probe worker and waits for probes in flight; the prober is not used afterwards. */
  async close(): Promise<void> {
    for (const uid of [...this.firstRuns.keys()]) this.releaseFirstRuns(uid);
    this.pods.clear();
    this.probeTypes.clear();
    this.specs.clear();
    await this.manager.close();
  }
}

/**
 * Upstream prober.probe's events, one per run: a failure is Warning `Unhealthy` "<Type> probe
 * failed: <output>", an errored run (Unknown) Warning `Unhealthy` "<Type> probe errored and resulted
 * in unknown state: <error>", a warning (e.g. a redirect to another host) Warning `ProbeWarning` "<Type>
 * probe warning: <output>", on the container's fieldPath. Repeats are aggregated by the recorder.
 */
function probeEventRecorder(
  recordEvent: PodEventRecorder | undefined,
  podOf: ((podUid: string) => Pod | undefined) | undefined,
): ((event: ProbeRunEvent) => void) | undefined {
  if (!recordEvent || !podOf) return undefined;
  return ({ podUID, containerName, probeType, outcome }) => {
    if (outcome.result === 'Success') return;
    const pod = podOf(podUID);
    if (!pod) return;
    const fieldPath = containerFieldPath(pod, containerName);
    if (outcome.result === 'Unknown')
      recordEvent(
        pod,
        'Warning',
        containerUnhealthyReason,
        probeErroredMessage(probeTypeName(probeType), outcome.output),
        fieldPath,
      );
    else if (outcome.result === 'Failure')
      recordEvent(
        pod,
        'Warning',
        containerUnhealthyReason,
        probeFailedMessage(probeTypeName(probeType), outcome.output),
        fieldPath,
      );
    else
      recordEvent(pod, 'Warning', 'ProbeWarning', `${probeType} probe warning: ${outcome.output}`, fieldPath);
  };
}

/**
 * A refused ExecSync as upstream's event prints it (`rpc error: code = NotFound desc = …`); past its
 * deadline it stays the CriError, which the exec probe turns into a timed-out probe.
 */
function execProbeError(error: unknown): unknown {
  if (!isCriError(error) || error.code === 'DEADLINE_EXCEEDED') return error;
  return new Error(goGrpcError(error), { cause: error });
}

function probeTypeName(type: ProbeType): 'liveness' | 'readiness' | 'startup' {
  return type.toLowerCase() as 'liveness' | 'readiness' | 'startup';
}

function toProbed(container: Container): ProbedContainer {
  return {
    name: container.name,
    ports: (container.ports ?? []).map((p) => ({
      name: p.name,
      containerPort: p.containerPort,
    })) as ProbedContainer['ports'],
    livenessProbe: withStaticEnv(container.livenessProbe as ProbeSpec | undefined, container),
    readinessProbe: withStaticEnv(container.readinessProbe as ProbeSpec | undefined, container),
    startupProbe: withStaticEnv(container.startupProbe as ProbeSpec | undefined, container),
  };
}

/**
 * An exec probe's command as upstream's prober runs it (ExpandContainerCommandOnlyStatic): each
 * `$(VAR)` replaced by the container's `env` value as written, a `valueFrom` variable's by "" (its
 * EnvVarsToMap keeps the empty Value), a later entry over an earlier one, `$$` an escaped `$`;
 * `envFrom` and the service links are not seen, and an unknown name stays as written.
 */
function withStaticEnv(probe: ProbeSpec | undefined, container: Container): ProbeSpec | undefined {
  if (!probe?.exec?.command) return probe;
  const env = (container.env ?? []).map((variable) => ({ key: variable.name, value: variable.value ?? '' }));
  return { ...probe, exec: { ...probe.exec, command: expandCommand(probe.exec.command, env) } };
}
