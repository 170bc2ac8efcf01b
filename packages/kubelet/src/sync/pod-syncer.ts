import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCriError } from '@nodeagent/cri-client';
import {
  type MessageInput,
  NamespaceMode,
  type PodSandboxConfig,
  type UserNamespace,
} from '@nodeagent/cri-client/types';
import type { Clock } from '@nodeagent/primitives';
import { formatDuration } from '@nodeagent/primitives';
import type { EphemeralContainerCheck } from '../admission/ephemeral-container-checks';
import { userNamespacesRefusal } from '../admission/runtime-feature-admit';
import { isStaticPod } from '../api/config-source';
import { type Container, type EphemeralContainer, isSidecar, type Pod, type Secret } from '../api/pod-types';
import { sleepOn } from '../clock-timers';
import { buildContainerConfig, type MountedVolume } from '../cri/container-config';
import { containerHash } from '../cri/container-hash';
import type { ContainerMemoryQoS } from '../cri/container-memory-qos';
import type { NodeSwapFacts, SwapShareError } from '../cri/container-swap';
import type { ClusterDNSOptions } from '../cri/dns-config';
import { goGrpcError } from '../cri/go-grpc-error';
import type { PodRuntime } from '../cri/pod-runtime';
import {
  containerInstances,
  findContainer,
  type PodRuntimeStatus,
  type RuntimeContainerStatus,
} from '../cri/runtime-state';
import { buildSandboxConfig } from '../cri/sandbox-config';
import type { StartLimiter, StartStep } from '../cri/start-limiter';
import type { UserNamespaceAllocator } from '../cri/user-namespaces';
import type { DraManager } from '../dra/dra-manager';
import { type ObjectSource, resolveEnv } from '../env/resolve-env';
import { type ServiceLister, serviceEnvVarMap } from '../env/service-env';
import { CreateContainerConfigError, KubeletError } from '../errors';
import {
  containerFieldPath,
  type EventType,
  formatPod,
  type PodEventRecorder,
} from '../events/event-reasons';
import type { ImageCredentialProviders } from '../images/credential-provider/image-credential-providers';
import type { ImagePullManager } from '../images/image-pull-manager';
import type { KubeletMetrics } from '../metrics';
import { ObjectCacheSyncError } from '../objects/object-errors';
import { computePodActions } from '../pod/compute-pod-actions';
import { CrashLoopBackOff, containerBackOffKey } from '../pod/crash-loop-backoff';
import { podContainerDir, podDir } from '../pod-dirs';
import type { ProbeState } from '../probes/probe-state';
import type { ContainerWaitingReason } from '../status/generate-pod-status';
import { makePodDataDirs } from '../volumes/pod-data-dirs';
import type { PodVolumeManager } from '../volumes/pod-volume-manager';
import type { TokenSource } from '../volumes/volume-payloads';
import {
  PodVolumesNotReadyError,
  VolumeAttachLimitExceededError,
  volumeAttachmentLimitExceededReason,
  volumeEventReason,
} from '../volumes/volumes-not-ready';
import { ensureEtcHostsFile } from './etc-hosts';
import { ensureImage, imageUser } from './image-puller';
import { type HookOutcome, runLifecycleHook } from './lifecycle-hooks';
import type { NodeFactsReader } from './node-facts';
import type { PodRejection } from './pod-state-store';
import { pullCredentialsFor } from './pull-secrets';
import { ReasonCache } from './reason-cache';
import { prepareSubPaths } from './subpaths';
import { SyncStepError } from './sync-errors';

/** Upstream minimumGracePeriodInSeconds: StopContainer always gets at least this long. */
export const minimumGracePeriodSeconds = 2;
/** The grace period of a pod that sets no terminationGracePeriodSeconds (the API's default, 30 s). */
export const defaultTerminationGracePeriodSeconds = 30;

/** What a {@link PodSyncer} acts through and the node facts a pod's containers see. */
/** The node as a pod's containers see it: names, addresses, directories, DNS and swap. */
export interface PodSyncerHost {
  nodeName: string;
  hostIPs: string[];
  memoryCapacity: number;
  /** --root-dir: termination message files live under pods/<uid>/containers. */
  rootDir: string;
  podLogsDir: string;
  dns: ClusterDNSOptions;
  /** memorySwap and the node's swap facts for each container's CRI resources; none: no swap setting. */
  swap?: NodeSwapFacts;
  /** MemoryQoS's settings when enforced (gate on, cgroup v2): each container's memory.min/low/high. */
  memoryQoS?: ContainerMemoryQoS;
  /** memory.oom.group=1 for each container: cgroup v2 without singleProcessOOMKill (oomGroupKill). */
  oomGroupKill?: boolean;
  /** KubeletConfiguration.cpuCFSQuota, for the sandbox's and the containers' CRI resources. */
  cpuCFSQuota?: boolean;
  /** KubeletConfiguration.cpuCFSQuotaPeriod in microseconds, for the sandbox's and the containers' CRI resources. */
  cpuCFSQuotaPeriodUs?: number;
  /** The node's hosts file, the base of host-network pods' /etc/hosts (default /etc/hosts). */
  nodeHostsFile?: string;
  /** KubeletConfiguration.seccompDefault: RuntimeDefault seccomp for containers that set none. */
  seccompDefault?: boolean;
}

/** What a pod's containers read from the cluster: objects, tokens, services, RuntimeClass handlers. */
export interface PodSyncerClusterOptions {
  /** configMaps and secrets for env, envFrom and image pull secrets. */
  objects: ObjectSource;
  /** Service account tokens for env and projected volumes. */
  tokens?: TokenSource;
  /** Services for the service-link variables; without one (standalone), pods get none. */
  services?: ServiceLister;
  /**
   * The CRI handler of a pod's RuntimeClass (upstream runtimeClassManager.LookupRuntimeHandler);
   * a rejection fails the sandbox (FailedCreatePodSandBox) and the pod waits. Without one every
   * sandbox gets the default handler '', as upstream's kubelet without an API server.
   */
  runtimeHandler?: (runtimeClassName: string | undefined) => Promise<string>;
}

/** Where the syncer reports: events, Warning events, swap shares it could not compute. */
export interface PodSyncerListenerOptions {
  /** Warning events only (kept for callers that log them); onEvent gets every event. */
  onWarning?: (pod: Pod, reason: string, message: string) => void;
  /** Upstream's pod and container events (Pulled, Created, Started, Killing, BackOff, Failed, ...). */
  onEvent?: PodEventRecorder;
  /** Hears why a container's LimitedSwap share could not be computed (it then gets no swap). */
  onSwapShareError?: (pod: Pod, container: Container, error: SwapShareError) => void;
}

/** What a PodSyncer works with: the runtime, the host and cluster it runs for, images, listeners and back-offs. */
export interface PodSyncerOptions {
  /** The CRI runtime the sync creates, starts and stops sandboxes and containers on. */
  runtime: PodRuntime;
  /** Sets up the pod's volumes before its containers start. */
  volumes: PodVolumeManager;
  clock: Clock;
  host: PodSyncerHost;
  cluster: PodSyncerClusterOptions;
  /** Image credentials and verified pulls. */
  images?: {
    /** Image credential provider plugins, asked after the pod's pull secrets. */
    credentialProviders?: ImageCredentialProviders;
    /** Verified image pulls (KEP-2535): whether a pod may use a present image without pulling. */
    imagePullManager?: ImagePullManager;
  };
  /** The node's allocatable (downward API limits) and the runtime's features, read at each use. */
  node?: NodeFactsReader;
  probes?: ProbeState;
  /** Crash-loop and image pull back-offs (default: fresh ones on `clock`). */
  backOffs?: { crashBackOff?: CrashLoopBackOff; imageBackOff?: CrashLoopBackOff };
  metrics?: KubeletMetrics;
  /** Waits `ms` milliseconds for lifecycle sleep handlers (default: a timer on `clock`). */
  sleep?: (ms: number) => Promise<void>;
  /** Bounds concurrent sandbox and container starts across pods; unbounded without one. */
  startLimiter?: StartLimiter;
  listeners?: PodSyncerListenerOptions;
  /** Per-pod ID ranges for hostUsers: false; none: such pods' sandboxes fail. */
  userNamespaces?: Pick<UserNamespaceAllocator, 'mappingsFor'>;
  /**
   * The admit handlers' security refusals for an ephemeral container (added after admission);
   * a refused one waits with CreateContainerConfigError. None: every ephemeral container starts.
   */
  ephemeralContainerCheck?: EphemeralContainerCheck;
  /**
   * @internal The DRA manager: a pod's ResourceClaims are prepared before its sandbox is created; a failure
   * is a FailedPrepareDynamicResources event and the pod waits for the next sync.
   */
  dynamicResources?: Pick<DraManager, 'prepareResources'>;
}

/** What one {@link PodSyncer.applyPodActions} round did and what the pod worker does next. */
export interface SyncOutcome {
  /** Waiting reasons for containers that could not be started this round. */
  waitingReasons: Map<string, ContainerWaitingReason>;
  /** Containers this round started (their recorded back-off, if any, is over). */
  started?: Set<string>;
  /** The earliest time a retry can make progress (end of a CrashLoopBackOff), if any. */
  retryAfterMs?: number;
  /** A pod-level failure (volumes, sandbox): the sync should be retried. */
  error?: KubeletError | Error;
  /** The pod is to be rejected (an exhausted volume attach limit): it fails instead of being retried. */
  rejection?: PodRejection;
  /**
   * Whether the sync asked the runtime to change anything (kill, sandbox, container). When it
   * did not, the runtime state it started from is still current and need not be read again.
   */
  changedRuntime: boolean;
  /**
   * This sync removed every container for a RestartAllContainers rule (KEP-5532): the status
   * reports the restart (condition AllContainersRestarting True, containers waiting).
   */
  restartingAllContainers?: boolean;
}

/** How soon a sync whose object watch had not listed yet is tried again. */
const objectCacheSyncRetryMs = 1_000;

/** Waiting reasons of a back-off: the pod is synced again when it ends, not after a failure's retry delay. */
const IN_BACK_OFF = new Set(['CrashLoopBackOff', 'ImagePullBackOff']);

/**
 * The runtime half of a pod sync (upstream kubeGenericRuntimeManager.SyncPod plus the kubelet's
 * volume preamble): sets up volumes, computes the actions that bring the runtime in line with the
 * spec and carries them out — kill what must die, (re)create the sandbox, start the next init
 * container or the sidecars, then the main containers, honouring CrashLoopBackOff and image pull
 * backoff. The one pod sync (sync-pod.ts) calls applyPodActions; the pod workers call that sync.
 */
export class PodSyncer {
  readonly crashBackOff: CrashLoopBackOff;
  readonly imageBackOff: CrashLoopBackOff;
  /** The CrashLoopBackOff each container's earlier syncs met (see {@link ReasonCache}). */
  readonly reasons = new ReasonCache();
  private readonly options: PodSyncerOptions;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: PodSyncerOptions) {
    this.options = options;
    this.crashBackOff = options.backOffs?.crashBackOff ?? new CrashLoopBackOff({ clock: options.clock });
    this.imageBackOff = options.backOffs?.imageBackOff ?? new CrashLoopBackOff({ clock: options.clock });
    this.sleep = options.sleep ?? ((ms) => sleepOn(options.clock, ms));
  }

  /** Upstream's handler runner on an HTTPS hook that succeeded over HTTP: a pod event and a count. */
  private reportHookOutcome(pod: Pod, { httpFallback }: HookOutcome): void {
    if (httpFallback === undefined) return;
    this.options.metrics?.lifecycleHandlerHttpFallbacks.inc();
    this.event(
      pod,
      'Warning',
      'LifecycleHTTPFallback',
      `request to HTTPS lifecycle hook ${httpFallback} got HTTP response, retry with HTTP succeeded`,
    );
  }

  /** Records one event: to onEvent, and Warning ones to onWarning as well. */
  private event(pod: Pod, type: EventType, reason: string, message: string, container?: string): void {
    const fieldPath = container === undefined ? undefined : containerFieldPath(pod, container);
    this.options.listeners?.onEvent?.(pod, type, reason, message, fieldPath);
    if (type === 'Warning') this.options.listeners?.onWarning?.(pod, reason, message);
  }

  /**
   * The CRI sandbox config of `pod` for its `attempt`-th sandbox (DNS, hostname, log directory,
   * security context, resources and overhead). Throws a SecurityContextError when the pod's security context cannot be
   * turned into one (e.g. an unknown supplementalGroupsPolicy).
   */
  sandboxConfig(
    pod: Pod,
    attempt: number,
    userNamespace?: MessageInput<UserNamespace>,
  ): ReturnType<typeof buildSandboxConfig> {
    return buildSandboxConfig(pod, {
      ...this.options.host.dns,
      attempt,
      podLogsDir: this.options.host.podLogsDir,
      userNamespace,
      cpuCFSQuota: this.options.host.cpuCFSQuota,
      cpuCFSQuotaPeriodUs: this.options.host.cpuCFSQuotaPeriodUs,
      oomGroupKill: this.options.host.oomGroupKill,
    });
  }

  /**
   * Upstream SyncPod's steps on this pod: the pod's data directories (makePodDataDirs), its
   * volumes, then kuberuntime SyncPod's: computePodActions, kill the pod or unwanted containers,
   * create the sandbox, start ephemeral, init and main containers.
   * `beforeContainers`: what must be done before any container starts (a new pod's allocation
   * written to its checkpoint); it runs alongside the sandbox's creation, and its failure fails
   * the sync before a container is created.
   */
  async applyPodActions(
    pod: Pod,
    status: PodRuntimeStatus,
    beforeContainers?: Promise<void>,
  ): Promise<SyncOutcome> {
    const outcome: SyncOutcome = { waitingReasons: new Map(), changedRuntime: false, started: new Set() };
    // Upstream SyncPod registers the pod's ConfigMaps and Secrets before its volumes and containers read them.
    this.options.cluster.objects.registerPod?.(pod);
    try {
      await makePodDataDirs(this.options.host.rootDir, pod.metadata.uid ?? '');
    } catch (error) {
      this.event(pod, 'Warning', 'FailedToMakePodDataDirectories', (error as Error).message);
      return { ...outcome, error: error as Error };
    }
    const context = this.payloadContext(pod, status);
    let volumes: PodVolumes;
    try {
      volumes = await this.options.volumes.setUp(pod, context);
    } catch (error) {
      return { ...outcome, ...this.mountFailed(pod, error) };
    }

    const actions = computePodActions(pod, status, this.options.probes);
    if (actions.containersToRemove.length > 0) return this.resetContainers(pod, status, actions, outcome);
    // Upstream SyncPod: a sandbox re-created over an existing one is announced.
    if (actions.createSandbox && actions.sandboxId)
      this.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    await this.killUnwanted(pod, status, actions, outcome);
    if (actions.killPod && !actions.createSandbox) return outcome;

    const sandbox = await this.podSandbox(pod, status, actions, outcome);
    if ('error' in sandbox) return { ...outcome, error: sandbox.error };
    if (!sandbox.id) return outcome;
    await beforeContainers;
    // Upstream SyncPod pulls the pod's image volumes once the sandbox exists and before any of
    // its containers (getImageVolumes); a failed pull keeps every container from starting.
    try {
      volumes = await this.pullImageVolumes(pod, volumes, sandbox.config);
    } catch (error) {
      if (error instanceof SyncStepError)
        for (const event of containerStartEvents(error, pod, error.value as string))
          this.event(pod, event.type, event.reason, event.message);
      return { ...outcome, error: error as Error };
    }

    const target: ContainerStartTarget = {
      status,
      sandboxId: sandbox.id,
      sandboxConfig: sandbox.config,
      ips: sandbox.ips,
      volumes,
    };
    await this.startInOrder(pod, actions, (container, type) =>
      this.tryStartContainer(pod, container, type, target, outcome),
    );
    return outcome;
  }

  /**
   * A failed volume set-up, as the sync reports it: FailedMount events, and for mounts not ready
   * yet the pod waits (Pending, ContainerCreating) until the mount back-off's next try.
   */
  private mountFailed(pod: Pod, error: unknown): Pick<SyncOutcome, 'error' | 'retryAfterMs' | 'rejection'> {
    // Upstream SyncPod's rejectPod for it: no FailedMount, the pod fails.
    if (error instanceof VolumeAttachLimitExceededError)
      return { rejection: { reason: volumeAttachmentLimitExceededReason, message: error.message } };
    if (error instanceof PodVolumesNotReadyError) {
      for (const message of error.events) this.event(pod, 'Warning', volumeEventReason(message), message);
      return { error, retryAfterMs: error.retryAfterMs };
    }
    this.event(pod, 'Warning', 'FailedMount', failedMountMessage(error));
    // A watch whose first list came late is read again soon (upstream's reconciler retries a
    // failed SetUp after 500 ms, doubling), not after a failed sync's delay: it keeps syncing.
    if ((error as { cause?: unknown }).cause instanceof ObjectCacheSyncError)
      return { error: error as Error, retryAfterMs: objectCacheSyncRetryMs };
    return { error: error as Error };
  }

  /** Stops the whole pod, or only the containers computePodActions wants killed. */
  private async killUnwanted(
    pod: Pod,
    status: PodRuntimeStatus,
    actions: ReturnType<typeof computePodActions>,
    outcome: SyncOutcome,
  ): Promise<void> {
    if (actions.killPod) {
      outcome.changedRuntime = true;
      await this.killPod(pod, status);
      return;
    }
    for (const kill of actions.containersToKill) {
      outcome.changedRuntime = true;
      const container = this.specContainer(pod, kill.name);
      await this.killContainer(pod, container, kill.containerId, undefined, podIPs(status)[0], kill.message);
    }
  }

  /**
   * The sandbox the pod's containers start in: the current one, or one created now when
   * computePodActions asks for it. `{ error }` when the sandbox cannot be configured or created
   * (FailedCreatePodSandBox already recorded); `id` is undefined when the pod has none.
   */
  private async podSandbox(
    pod: Pod,
    status: PodRuntimeStatus,
    actions: ReturnType<typeof computePodActions>,
    outcome: SyncOutcome,
  ): Promise<PodSandboxTarget | { error: Error }> {
    // Upstream counts each sandbox creation of a user-namespaced pod, and each failed one
    // (including a user namespace it could not have).
    const userNamespaced = actions.createSandbox && pod.spec.hostUsers === false;
    if (userNamespaced) this.options.metrics?.startedUserNamespacedPods.inc();
    // The pod's RuntimeClass handler, looked up once: a hostUsers: false pod needs it first.
    let handler: string | undefined;
    const lookupHandler = async () =>
      (handler ??= (await this.options.cluster.runtimeHandler?.(pod.spec.runtimeClassName)) ?? '');
    let config: ReturnType<typeof buildSandboxConfig>;
    try {
      config = this.sandboxConfig(pod, actions.attempt, await this.podUserNamespace(pod, lookupHandler));
    } catch (error) {
      // A security setting the sandbox cannot be built with.
      if (userNamespaced) this.options.metrics?.startedUserNamespacedPodsErrors.inc();
      this.sandboxFailed(pod, error as Error);
      return { error: error as Error };
    }
    if (!actions.createSandbox) return { id: actions.sandboxId, config, ips: podIPs(status) };
    try {
      await this.options.dynamicResources?.prepareResources(pod);
    } catch (error) {
      // Upstream's kuberuntime SyncPod, before createPodSandbox.
      const message = `Failed to prepare dynamic resources: ${(error as Error).message}`;
      this.event(pod, 'Warning', 'FailedPrepareDynamicResources', message);
      return { error: error as Error };
    }
    outcome.changedRuntime = true;
    let created: Awaited<ReturnType<PodSyncer['runSandbox']>>;
    try {
      created = await this.runSandbox(config, lookupHandler);
    } catch (error) {
      this.options.metrics?.startedPodsErrors.inc();
      if (userNamespaced) this.options.metrics?.startedUserNamespacedPodsErrors.inc();
      this.sandboxFailed(pod, error as Error);
      return { error: error as Error };
    }
    this.options.metrics?.startedPods.inc();
    return { id: created.id, config, ips: created.hostNetwork ? this.options.host.hostIPs : created.ips };
  }

  /**
   * The ID range of a hostUsers: false pod (upstream's userns manager); none for other pods.
   * Throws, as upstream fails the sandbox and retries, when the pod's runtime handler has no user
   * namespaces or the kubelet has no allocator.
   */
  private async podUserNamespace(
    pod: Pod,
    lookupHandler: () => Promise<string>,
  ): Promise<MessageInput<UserNamespace> | undefined> {
    if (pod.spec.hostUsers !== false) return undefined;
    const allocator = this.options.userNamespaces;
    const refusal = userNamespacesRefusal(
      await lookupHandler(),
      this.options.node?.runtimeFeatures,
      allocator !== undefined,
    );
    if (refusal !== undefined || !allocator) throw new Error(refusal);
    return allocator.mappingsFor(pod);
  }

  /** RunPodSandbox (its log directory made first), then the new sandbox's network as the runtime reads it. */
  private async runSandbox(
    config: ReturnType<typeof buildSandboxConfig>,
    lookupHandler: () => Promise<string>,
  ) {
    await mkdir(config.logDirectory, { recursive: true, mode: 0o755 });
    const runtimeHandler = await lookupHandler();
    return this.limited('sandbox', async () => {
      const id = await this.options.runtime.runPodSandbox(config, runtimeHandler);
      return (await this.options.runtime.podSandboxStatus(id)) ?? { id, hostNetwork: false, ips: [] };
    });
  }

  /**
   * Upstream SyncPod's start order: ephemeral containers first (so a debug container runs even
   * when an init container keeps failing), then the next init container or the sidecars, and
   * the main containers only once no regular init container is left to run.
   */
  private async startInOrder(
    pod: Pod,
    actions: ReturnType<typeof computePodActions>,
    start: (container: Container, type: ContainerType) => Promise<boolean>,
  ): Promise<void> {
    for (const index of actions.ephemeralContainersToStart) {
      await start(pod.spec.ephemeralContainers![index]!, 'ephemeral_container');
    }
    const initContainers = pod.spec.initContainers ?? [];
    for (const index of actions.initContainersToStart) {
      const container = initContainers[index]!;
      const started = await start(container, 'init_container');
      // A regular init container must finish before anything else starts.
      if (!started || !isSidecar(container)) return;
    }
    if (
      actions.initContainersToStart.some((index) => !isSidecar(initContainers[index]!)) ||
      (actions.createSandbox && initContainers.length > 0)
    ) {
      return;
    }
    for (const index of actions.containersToStart) {
      await start(pod.spec.containers[index]!, 'container');
    }
  }

  /**
   * Starts one container into `target`; whether it started. A failure becomes the container's
   * waiting reason, its events and (but for CrashLoopBackOff) an error count, never a throw.
   */
  private async tryStartContainer(
    pod: Pod,
    container: Container,
    type: ContainerType,
    target: ContainerStartTarget,
    outcome: SyncOutcome,
  ): Promise<boolean> {
    outcome.changedRuntime = true;
    const { status, sandboxId, sandboxConfig, ips, volumes } = target;
    try {
      await this.startContainer(pod, container, status, sandboxId, sandboxConfig, ips, volumes, type);
      outcome.started?.add(container.name);
      return true;
    } catch (error) {
      // Upstream's SyncPod returns every start failure but a back-off's as the sync's error, and
      // the pod worker requeues the pod after its back-off period (10 s), not the resync (1 min).
      if (!(error instanceof SyncStepError && IN_BACK_OFF.has(error.code))) outcome.error ??= error as Error;
      if (error instanceof SyncStepError) {
        outcome.waitingReasons.set(container.name, { reason: error.code, message: error.message });
        if (error.retryAfterMs !== undefined) {
          outcome.retryAfterMs = Math.min(
            outcome.retryAfterMs ?? Number.POSITIVE_INFINITY,
            error.retryAfterMs,
          );
        }
        if (error.code !== 'CrashLoopBackOff') {
          this.options.metrics?.startedContainersErrors.inc({ code: error.code, container_type: type });
        }
        for (const event of containerStartEvents(error, pod, container.name))
          this.event(pod, event.type, event.reason, event.message, container.name);
        return false;
      }
      outcome.waitingReasons.set(container.name, {
        reason: 'RunContainerError',
        message: (error as Error).message,
      });
      this.event(pod, 'Warning', 'Failed', `Error: ${(error as Error).message}`, container.name);
      return false;
    }
  }

  /**
   * RestartAllContainers (upstream SyncPod's containersToReset): stops the running containers
   * together (Killing "killing"; KEP-5532 does not honour the grace period for an in-place
   * restart: a 0 s override, so no preStop hook and StopContainer's 2 s minimum) and removes
   * every instance, logs included; nothing starts. The next sync, right away, finds the runtime
   * empty and starts the pod again.
   */
  private async resetContainers(
    pod: Pod,
    status: PodRuntimeStatus,
    actions: ReturnType<typeof computePodActions>,
    outcome: SyncOutcome,
  ): Promise<SyncOutcome> {
    const reset: SyncOutcome = {
      ...outcome,
      changedRuntime: true,
      restartingAllContainers: true,
      retryAfterMs: 0,
    };
    try {
      const running = actions.containersToRemove.filter((remove) => remove.kill);
      await Promise.all(
        running.map((remove) =>
          this.killContainer(
            pod,
            this.specContainer(pod, remove.name),
            remove.containerId,
            0,
            podIPs(status)[0],
            'killing',
          ),
        ),
      );
      for (const remove of actions.containersToRemove)
        await this.options.runtime.removeContainer(remove.containerId);
    } catch (error) {
      return { ...reset, error: error as Error };
    }
    return reset;
  }

  /** Upstream's FailedCreatePodSandBox event: "Failed to create pod sandbox: <error>". */
  private sandboxFailed(pod: Pod, error: Error): void {
    // Upstream prints the gRPC error itself here ("rpc error: code = Unknown desc = ...").
    const message = isCriError(error) ? goGrpcError(error) : error.message;
    this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
  }

  /** Stops every container of the pod (main containers, then sidecars in reverse) and its sandboxes. */
  async killPod(pod: Pod | undefined, status: PodRuntimeStatus, gracePeriodOverride?: number): Promise<void> {
    const running = status.containers.filter(
      (c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown',
    );
    const ip = podIPs(status)[0];
    const sidecarOrder = (pod?.spec.initContainers ?? []).map((c) => c.name);
    const main = running.filter((c) => !sidecarOrder.includes(c.name));
    const sidecars = running
      .filter((c) => sidecarOrder.includes(c.name))
      .sort((a, b) => sidecarOrder.indexOf(b.name) - sidecarOrder.indexOf(a.name));
    await Promise.all(
      main.map((c) =>
        this.killContainer(
          pod,
          pod ? this.specContainer(pod, c.name) : undefined,
          c.id,
          gracePeriodOverride,
          ip,
        ),
      ),
    );
    for (const c of sidecars) {
      await this.killContainer(
        pod,
        pod ? this.specContainer(pod, c.name) : undefined,
        c.id,
        gracePeriodOverride,
        ip,
      );
    }
    for (const sandbox of status.sandboxes) {
      if (sandbox.ready) await this.options.runtime.stopPodSandbox(sandbox.id);
    }
  }

  /**
   * Upstream killContainer: the Killing event ("Stopping container c" unless a reason is given),
   * the preStop hook within the grace period, then StopContainer with what is left.
   */
  async killContainer(
    pod: Pod | undefined,
    container: Container | undefined,
    containerId: string,
    gracePeriodOverride: number | undefined,
    podIP: string | undefined,
    message?: string,
  ): Promise<void> {
    if (pod && container)
      this.event(pod, 'Normal', 'Killing', message ?? `Stopping container ${container.name}`, container.name);
    let grace =
      gracePeriodOverride ??
      pod?.metadata.deletionGracePeriodSeconds ??
      pod?.spec.terminationGracePeriodSeconds ??
      defaultTerminationGracePeriodSeconds;
    const preStop = container?.lifecycle?.preStop;
    if (preStop && pod && container && grace > 0) {
      const started = this.options.clock.now();
      await runLifecycleHook(preStop, pod, container, containerId, {
        runtime: this.options.runtime,
        podIP,
        sleep: this.sleep,
        timeoutSeconds: grace,
      }).then(
        (outcome) => this.reportHookOutcome(pod, outcome),
        () =>
          // Upstream leaves the hook's output out of the event: it may hold secrets.
          this.event(pod, 'Warning', 'FailedPreStopHook', 'PreStopHook failed', container.name),
      );
      grace -= Math.floor((this.options.clock.now() - started) / 1000);
    }
    await this.options.runtime.stopContainer(containerId, Math.max(grace, minimumGracePeriodSeconds));
  }

  private async startContainer(
    pod: Pod,
    container: Container,
    status: PodRuntimeStatus,
    sandboxId: string,
    sandboxConfig: MessageInput<PodSandboxConfig>,
    ips: string[],
    volumes: Awaited<ReturnType<PodVolumeManager['setUp']>>,
    type: ContainerType,
  ): Promise<void> {
    const { runtime } = this.options;
    if (type === 'ephemeral_container') {
      const refusal = this.options.ephemeralContainerCheck?.(pod, container);
      if (refusal) throw new SyncStepError('CreateContainerConfigError', container.name, refusal);
    }
    const previous = findContainer(status, container.name);
    const restartCount = previous ? previous.restartCount + 1 : 0;
    // Upstream doBackOff: the newest exited instance, whatever ended it (a crash, a liveness or
    // startup probe kill): a container killed and restarted in this sync is held back by the
    // failure before it.
    const lastExited = containerInstances(status, container.name).find((c) => c.state === 'exited');
    if (lastExited) this.checkCrashBackOff(pod, container, lastExited);

    const secrets = await this.pullSecrets(pod);
    const imageRef = await this.ensureImageWithEvents(pod, container, secrets, sandboxConfig);
    const user = await imageUser(runtime, container, imageRef);
    let env: Awaited<ReturnType<typeof resolveEnv>>;
    try {
      env = await resolveEnv(pod, container, {
        serviceEnv: this.serviceEnv(pod),
        objects: this.options.cluster.objects,
        nodeName: this.options.host.nodeName,
        hostIPs: this.options.host.hostIPs,
        podIPs: ips,
        nodeAllocatable: this.options.node?.allocatable,
        volumeHostPaths: new Map([...volumes].map(([name, mounted]) => [name, mounted.hostPath])),
      });
    } catch (error) {
      throw new SyncStepError('CreateContainerConfigError', container.name, (error as Error).message);
    }
    let subPaths: (string | undefined)[];
    try {
      subPaths = await prepareSubPaths(container, env, volumes);
    } catch (error) {
      // Upstream's message is the bare reason ("error SubPath `/tmp` must not be an absolute path").
      const message = error instanceof KubeletError ? error.reason : (error as Error).message;
      throw new SyncStepError('CreateContainerConfigError', container.name, message);
    }
    const terminationMessageHostPath = await this.terminationMessageFile(pod, container);
    const etcHostsPath = await ensureEtcHostsFile(pod, {
      podDir: podDir(this.options.host.rootDir, pod.metadata.uid ?? ''),
      podIPs: pod.spec.hostNetwork ? this.options.host.hostIPs : ips,
      clusterDomain: this.options.host.dns.clusterDomain,
      nodeHostsFile: this.options.host.nodeHostsFile,
    });
    const containerId = await this.limited('container', async () => {
      let id: string;
      try {
        const config = buildContainerConfig(pod, container, {
          restartCount,
          imageRef,
          env,
          volumes,
          memoryCapacity: this.options.host.memoryCapacity,
          swap: this.options.host.swap,
          memoryQoS: this.options.host.memoryQoS,
          oomGroupKill: this.options.host.oomGroupKill,
          cpuCFSQuota: this.options.host.cpuCFSQuota,
          cpuCFSQuotaPeriodUs: this.options.host.cpuCFSQuotaPeriodUs,
          onSwapShareError: (error) => this.options.listeners?.onSwapShareError?.(pod, container, error),
          // The sandbox's user namespace (hostUsers: false), for the containers and their mounts.
          userNamespace:
            pod.spec.hostUsers === false
              ? (sandboxConfig.linux?.securityContext?.namespaceOptions?.usernsOptions ?? undefined)
              : undefined,
          terminationMessageHostPath,
          imageUser: user,
          seccomp: {
            profileRoot: join(this.options.host.rootDir, 'seccomp'),
            seccompDefault: this.options.host.seccompDefault ?? false,
          },
          etcHostsPath,
          subPaths,
        });
        targetProcessNamespace(config, container, status);
        id = await runtime.createContainer(sandboxId, config, sandboxConfig);
      } catch (error) {
        throw new SyncStepError(
          error instanceof KubeletError ? 'CreateContainerConfigError' : 'CreateContainerError',
          container.name,
          runtimeMessage(error),
        );
      }
      this.event(pod, 'Normal', 'Created', 'Container created', container.name);
      try {
        await runtime.startContainer(id);
      } catch (error) {
        throw new SyncStepError('RunContainerError', container.name, runtimeMessage(error));
      }
      this.event(pod, 'Normal', 'Started', 'Container started', container.name);
      return id;
    });
    this.options.metrics?.startedContainers.inc({ container_type: type });
    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      try {
        const outcome = await runLifecycleHook(postStart, pod, container, containerId, {
          runtime,
          podIP: ips[0],
          sleep: this.sleep,
          timeoutSeconds: pod.spec.terminationGracePeriodSeconds ?? defaultTerminationGracePeriodSeconds,
        });
        this.reportHookOutcome(pod, outcome);
      } catch (error) {
        await this.killContainer(pod, container, containerId, undefined, ips[0]).catch(() => undefined);
        throw new SyncStepError('PostStartHookError', container.name, (error as Error).message);
      }
    }
  }

  /**
   * The pod's image volumes pulled as its containers' images are (pull policy, secrets,
   * credential providers, verified pulls), with the image manager's events on the pod itself (no
   * fieldPath, as upstream); each mount then names the resolved image.
   */
  private async pullImageVolumes(
    pod: Pod,
    volumes: ReadonlyMap<string, MountedVolume>,
    sandboxConfig: MessageInput<PodSandboxConfig>,
  ): Promise<Map<string, MountedVolume>> {
    const out = new Map(volumes);
    const imageVolumes = (pod.spec.volumes ?? []).filter((volume) => volume.image);
    if (imageVolumes.length === 0) return out;
    const secrets = await this.pullSecrets(pod);
    for (const volume of imageVolumes) {
      const reference = volume.image?.reference ?? '';
      const asContainer: Container = {
        name: volume.name,
        image: reference,
        ...(volume.image?.pullPolicy ? { imagePullPolicy: volume.image.pullPolicy } : {}),
      };
      const ref = await this.ensureImageWithEvents(pod, asContainer, secrets, sandboxConfig, false);
      // The volume manager's mount (no host path, read-only), now naming the resolved image.
      const mounted = volumes.get(volume.name);
      if (mounted) out.set(volume.name, { ...mounted, image: { image: ref, userSpecifiedImage: reference } });
    }
    return out;
  }

  /**
   * ensureImage with upstream image manager's events: "already present" when nothing was pulled,
   * Pulling before and Pulled (time and size) after a pull. The failures' events come from
   * containerStartEvents.
   */
  private async ensureImageWithEvents(
    pod: Pod,
    container: Container,
    secrets: Secret[],
    sandboxConfig: MessageInput<PodSandboxConfig>,
    onContainer = true,
  ): Promise<string> {
    const { runtime, clock } = this.options;
    const image = container.image ?? '';
    // An image volume's events are the pod's: no container fieldPath.
    const fieldContainer = onContainer ? container.name : undefined;
    let pulled = false;
    const started = clock.now();
    const announcing: PodRuntime = Object.create(runtime);
    announcing.pullImage = async (...args) => {
      if (!pulled)
        this.event(pod, 'Normal', 'Pulling', `Pulling image ${JSON.stringify(image)}`, fieldContainer);
      pulled = true;
      const pullStarted = clock.now();
      const ref = await runtime.pullImage(...args);
      const size = await runtime.imageSize?.(ref).catch(() => undefined);
      this.event(
        pod,
        'Normal',
        'Pulled',
        `Successfully pulled image ${JSON.stringify(image)} in ${formatDuration(clock.now() - pullStarted)} (${formatDuration(clock.now() - started)} including waiting). Image size: ${size ?? 0} bytes.`,
        fieldContainer,
      );
      return ref;
    };
    const ref = await ensureImage(
      announcing,
      pod,
      container,
      pullCredentialsFor(image, pod, secrets, this.options.images?.credentialProviders),
      sandboxConfig,
      this.imageBackOff,
      clock,
      this.options.images?.imagePullManager,
    );
    if (!pulled)
      this.event(
        pod,
        'Normal',
        'Pulled',
        `Container image ${JSON.stringify(image)} already present on machine and can be accessed by the pod`,
        fieldContainer,
      );
    return ref;
  }

  /** Runs a pod-start step in one of the limiter's slots (directly without a limiter). */
  private limited<T>(step: StartStep, work: () => Promise<T>): Promise<T> {
    return this.options.startLimiter ? this.options.startLimiter.run(step, work) : work();
  }

  /** Upstream doBackOff: refuse to restart a container that failed too recently. */
  private checkCrashBackOff(pod: Pod, container: Container, previous: RuntimeContainerStatus): void {
    const key = containerBackOffKey(
      pod.metadata.uid ?? '',
      pod.metadata.name ?? '',
      pod.metadata.namespace ?? 'default',
      container.name,
      containerHash(container),
    );
    const failedAt = previous.finishedAt ?? previous.startedAt ?? previous.createdAt;
    const decision = this.crashBackOff.check(key, failedAt);
    if (decision.inBackOff) {
      throw new SyncStepError(
        'CrashLoopBackOff',
        container.name,
        `back-off ${formatDuration(decision.backoffMs)} restarting failed container=${container.name} pod=${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})`,
        decision.remainingMs,
      );
    }
  }

  /**
   * Upstream getServiceEnvVarMap over the Service informer; refuses until it has listed once,
   * except for static pods, which start with what is listed (none before the API server answers).
   */
  private serviceEnv(pod: Pod): Record<string, string> {
    const { services } = this.options.cluster;
    if (!services) return {};
    if (!isStaticPod(pod) && !services.hasSynced())
      throw new Error('services have not yet been read at least once, cannot construct envvars');
    return serviceEnvVarMap(
      services.list(),
      pod.metadata.namespace ?? 'default',
      pod.spec.enableServiceLinks ?? true,
    );
  }

  /** Upstream SyncTerminatedPod: the terminated pod's ConfigMaps, Secrets and service account tokens are let go. */
  releaseObjects(pod: Pod): void {
    this.options.cluster.objects.unregisterPod?.(pod);
    this.options.cluster.tokens?.forgetPod?.(pod.metadata.uid ?? '');
  }

  private async pullSecrets(pod: Pod): Promise<Secret[]> {
    const secrets: Secret[] = [];
    for (const ref of pod.spec.imagePullSecrets ?? []) {
      const secret = await this.options.cluster.objects
        .getSecret(pod.metadata.namespace ?? 'default', ref.name)
        .catch(() => undefined);
      if (secret) secrets.push(secret);
    }
    return secrets;
  }

  private async terminationMessageFile(pod: Pod, container: Container): Promise<string> {
    const dir = podContainerDir(this.options.host.rootDir, pod.metadata.uid ?? '', container.name);
    await mkdir(dir, { recursive: true });
    const path = join(dir, randomBytes(4).toString('hex'));
    await writeFile(path, '', { mode: 0o666 });
    // The create mode went through the umask; any container user must be able to write it.
    await chmod(path, 0o666);
    return path;
  }

  private payloadContext(_pod: Pod, status: PodRuntimeStatus) {
    return {
      objects: this.options.cluster.objects,
      tokens: this.options.cluster.tokens,
      nodeName: this.options.host.nodeName,
      hostIPs: this.options.host.hostIPs,
      podIPs: podIPs(status),
      nodeAllocatable: this.options.node?.allocatable,
    };
  }

  private specContainer(pod: Pod, name: string): Container | undefined {
    return [
      ...(pod.spec.initContainers ?? []),
      ...pod.spec.containers,
      ...(pod.spec.ephemeralContainers ?? []),
    ].find((c) => c.name === name);
  }
}

/** The metrics' container_type of a start (upstream's values). */
type ContainerType = 'init_container' | 'container' | 'ephemeral_container';

/** The pod's volumes as mounted for its containers, by volume name. */
type PodVolumes = Awaited<ReturnType<PodVolumeManager['setUp']>>;

/** The sandbox a sync starts containers in: its ID (none yet: undefined), CRI config and IPs. */
interface PodSandboxTarget {
  id: string | undefined;
  config: ReturnType<typeof buildSandboxConfig>;
  /** The pod's IPs (the node's for a host-network pod). */
  ips: string[];
}

/** Where one sync's containers start: the runtime state it began from, the sandbox and volumes. */
interface ContainerStartTarget {
  status: PodRuntimeStatus;
  sandboxId: string;
  sandboxConfig: ReturnType<typeof buildSandboxConfig>;
  /** The pod's IPs (the node's for a host-network pod). */
  ips: string[];
  volumes: PodVolumes;
}

/**
 * An ephemeral container with targetContainerName joins the process namespace of that running
 * container (upstream's TARGET namespace mode), unless the pod already shares one; a target that
 * is not running fails the start, as upstream's getTargetID.
 */
function targetProcessNamespace(
  config: ReturnType<typeof buildContainerConfig>,
  container: EphemeralContainer,
  status: PodRuntimeStatus,
): void {
  if (!container.targetContainerName) return;
  const namespaces = config.linux.securityContext.namespaceOptions;
  if (namespaces.pid !== NamespaceMode.CONTAINER) return;
  const target = findContainer(status, container.targetContainerName);
  if (target?.state !== 'running') {
    throw new CreateContainerConfigError(
      'targetContainerName',
      container.targetContainerName,
      `unable to find target container ${container.targetContainerName}`,
    );
  }
  namespaces.pid = NamespaceMode.TARGET;
  namespaces.targetId = target.id;
}

function podIPs(status: PodRuntimeStatus): string[] {
  const sandbox = status.sandboxes[0];
  return sandbox?.ready ? sandbox.ips : [];
}

/** Waiting reasons the image manager sets; the container's Failed event names only the reason. */
const imageErrors = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff']);

/**
 * The events upstream records for a container that could not start: BackOff ("Back-off
 * restarting failed container c in pod p_ns(uid)") for a crash-looping one, FailedPostStartHook
 * for a failed hook; an image failure's own event (ErrImageNeverPull, Failed "Failed to pull
 * image ...", BackOff "Back-off pulling image ...") then Failed "Error: <reason>"; otherwise
 * Failed with the message behind "Error: " (events.FailedToCreateContainer, "Error: %v").
 */
export function containerStartEvents(
  error: SyncStepError,
  pod: Pod,
  container: string,
): { type: EventType; reason: string; message: string }[] {
  if (error.code === 'CrashLoopBackOff')
    return [
      {
        type: 'Warning',
        reason: 'BackOff',
        message: `Back-off restarting failed container ${container} in pod ${formatPod(pod)}`,
      },
    ];
  // Upstream leaves the hook's output out of the event (it may hold secrets); the status has it.
  if (error.code === 'PostStartHookError')
    return [{ type: 'Warning', reason: 'FailedPostStartHook', message: 'PostStartHook failed' }];
  if (imageErrors.has(error.code)) {
    const message = error.eventMessage ?? error.message;
    const first =
      error.code === 'ErrImageNeverPull'
        ? { type: 'Warning' as const, reason: 'ErrImageNeverPull', message }
        : error.code === 'ErrImagePull'
          ? { type: 'Warning' as const, reason: 'Failed', message }
          : { type: 'Normal' as const, reason: 'BackOff', message };
    return [first, { type: 'Warning', reason: 'Failed', message: `Error: ${error.code}` }];
  }
  return [{ type: 'Warning', reason: 'Failed', message: `Error: ${error.message}` }];
}

/** Upstream's container start failures carry the runtime's own message (grpc status Message()). */
function runtimeMessage(error: unknown): string {
  return isCriError(error) ? error.details : (error as Error).message;
}

/**
 * Upstream's per-volume FailedMount message, `MountVolume.SetUp failed for volume "cfg" :
 * configmap "cfg" not found`, from the volume manager's error (field `spec.volumes[<name>]`,
 * reason `MountVolume.SetUp failed: <field>: <why> (got <value>)`); anything else as it is.
 */
export function failedMountMessage(error: unknown): string {
  if (!(error instanceof KubeletError)) return (error as Error).message;
  const volume = /^spec\.volumes\[(.+)\]$/.exec(error.field)?.[1];
  const why = /^MountVolume\.SetUp failed: (?:[\w.[\]]+: )?(.*?)(?: \(got .*\))?$/s.exec(error.reason)?.[1];
  if (volume === undefined || why === undefined) return error.message;
  return `MountVolume.SetUp failed for volume ${JSON.stringify(volume)} : ${why}`;
}
