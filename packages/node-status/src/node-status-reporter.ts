import {
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
  type V1Node,
} from '@kubernetes/client-node';
import {
  type CoreV1WireRequests,
  coordinationV1Requests,
  coreV1Requests,
  Informer,
} from '@nodeagent/informer';
import { errorMessage } from '@nodeagent/informer/errors';
import { type Clock, systemClock, type Wire } from '@nodeagent/primitives';
import { computeCapacity, type ResourceList } from './capacity';
import { evaluateReadyChecks, type ReadyCheck } from './health-checks';
import {
  type MachineInfo,
  type MachineSource,
  readEphemeralStorageBytes,
  readMachineInfo,
} from './machine-info';
import { nodeAddresses } from './node-addresses';
import {
  CONDITION_ORDER,
  conditionEventReasons,
  type NodeConditionLike,
  nextConditions,
} from './node-conditions';
import { NodeLeaseController } from './node-lease-controller';
import { initialNode, requiredLabelsToSet } from './node-object';
import { type RegistrationOutcome, registerNodeWithRetry } from './node-registrar';
import {
  buildNodeStatus,
  type NodeImage,
  type NodeStatusWire,
  type RuntimeVersion,
  statusPatch,
} from './node-status-body';
import { nodeStatusHasChanged } from './node-status-changed';
import {
  type NodeStatusConfig,
  type ResolvedNodeStatusConfig,
  resolveNodeStatusConfig,
} from './node-status-config';
import type { RuntimeStatusFeatures } from './runtime-handlers';
import { Sleeper } from './scheduler';

const MANAGED: ReadonlySet<string> = new Set(CONDITION_ORDER);

/** The tries of one status round (upstream's nodeStatusUpdateRetry). */
const NODE_STATUS_UPDATE_RETRY = 5;
/** How often the fast status update looks at readiness (upstream's fastStatusUpdateOnce period). */
const FAST_STATUS_UPDATE_PERIOD_MS = 100;
/** How long after start the fast status update gives up (upstream's nodeReadyGracePeriod). */
const NODE_READY_GRACE_PERIOD_MS = 120_000;

/** The eviction manager's current pressure signals, for the pressure conditions. */
export interface PressureSignals {
  memoryPressure?: boolean;
  diskPressure?: boolean;
  pidPressure?: boolean;
}

/** The cluster, node config and sources a NodeStatusReporter reports from. */
export interface NodeStatusReporterOptions {
  /** The API server, for registration (upstream's kubeClient, which waits for kubeAPIQPS). */
  kubeConfig: KubeConfig;
  /**
   * Node status reads and patches and the Lease go here instead (upstream's heartbeatClient, made
   * with QPS -1 so a kubelet busy with its pods still heartbeats). Default: kubeConfig.
   */
  heartbeatKubeConfig?: KubeConfig;
  config: NodeStatusConfig;
  /** CRI Version (runtimeName, runtimeVersion); a failure leaves containerRuntimeVersion as last known. */
  runtimeVersion?: () => Promise<RuntimeVersion>;
  /**
   * CRI Status's runtime handlers and features, for status.runtimeHandlers and status.features;
   * a failure leaves them as last known (upstream keeps what its last runtime check read).
   */
  runtimeStatus?: () => Promise<RuntimeStatusFeatures>;
  /** Health checks that feed Ready (runtime reachable, PLEG healthy, network ready, ...). */
  readyChecks?: ReadyCheck[];
  /** Eviction manager signals for the pressure conditions (default: no pressure). */
  pressure?: () => Promise<PressureSignals> | PressureSignals;
  /**
   * Device plugin resources (upstream's MachineInfo setter, from the device manager's
   * GetCapacity): set over the machine's capacity and allocatable at every status update.
   */
  extendedResources?: () => { capacity: ResourceList; allocatable: ResourceList };
  /** Images on the node (CRI ListImages). */
  images?: () => Promise<NodeImage[]>;
  /**
   * The attachable volumes the node's pods use, for status.volumesInUse (upstream's volume
   * manager GetVolumesInUse: `kubernetes.io/csi/<driver>^<handle>`); default none.
   */
  volumesInUse?: () => readonly string[];
  /** Machine facts, asked at every status update; defaults to reading them from `machineSource`. */
  machineInfo?: () => Promise<MachineInfo>;
  /** Where the default machine facts are read (default this host's /proc, /sys, cgroups and statfs). */
  machineSource?: MachineSource;
  clock?: Clock;
  /**
   * Called with every failure it recovers from and what failed, in upstream's words where its
   * kubelet logs the same failure ("Error updating node status, will retry", "Failed to update
   * lease", "Unable to register node with API server").
   */
  onError?: (err: unknown, during: string) => void;
  /**
   * A status update or Lease renewal failed again within one round (upstream's
   * onRepeatedHeartbeatFailure, from the second failed try on): the kubelet closes its API
   * connections then (closeAllConnections), so that a connection that hangs, its peer gone
   * without a FIN, is not the one the next try waits on.
   */
  onRepeatedHeartbeatFailure?: () => void;
  /** After every status patch the API server accepted. */
  onStatusUpdate?: (status: NodeStatusWire) => void;
  /** Called after each lease renewal with the server's copy. */
  onLeaseRenew?: (lease: Wire<V1Lease>) => void;
  /**
   * A node condition set or changed (upstream's recordNodeStatusEvent, type Normal): the reason,
   * e.g. `NodeHasSufficientMemory`, `NodeReady`, `NodeNotReady`.
   */
  onConditionEvent?: (reason: string) => void;
}

/**
 * The kubelet's node-status half: registers the Node (reconciling an existing one), patches
 * its status every nodeStatusUpdateFrequency when the API server's copy differs from what it
 * would send (heartbeat times aside) and at least every nodeStatusReportFrequency, and heartbeats
 * through the node Lease. Like upstream's kubelet it registers once: a Node deleted later stays
 * deleted (operators delete a Node to fence it) while every status round fails. API failures are
 * reported to onError and retried; nothing throws out of the loops.
 */
export class NodeStatusReporter {
  readonly config: ResolvedNodeStatusConfig;
  private readonly core: CoreV1WireRequests;
  private readonly registrationCore: CoreV1WireRequests;
  private readonly lease: NodeLeaseController;
  /**
   * Upstream's node informer (fieldSelector metadata.name=<node>): each status round compares
   * with its copy instead of GETting the Node (tryUpdateNodeStatus reads nodeLister first).
   */
  private readonly node: Informer<Wire<V1Node>>;
  private readonly clock: Clock;
  private readonly sleeper: Sleeper;
  private loop: Promise<void> | undefined;
  private fastUpdate: Promise<void> | undefined;
  /** The status round in flight: rounds run one at a time, as upstream's syncNodeStatusMux. */
  private round: Promise<unknown> = Promise.resolve();
  private registered = false;
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private conditions: NodeConditionLike[] | undefined;
  private runtime: RuntimeVersion | undefined;
  private runtimeFeatures: RuntimeStatusFeatures | undefined;
  private machine: MachineInfo | undefined;
  private lastRegistration: RegistrationOutcome | undefined;

  constructor(private readonly opts: NodeStatusReporterOptions) {
    this.config = resolveNodeStatusConfig(opts.config);
    this.clock = opts.clock ?? systemClock;
    this.sleeper = new Sleeper(this.clock);
    // Plain requests over the KubeConfig, not client-node's typed API classes (see @nodeagent/informer).
    const heartbeat = opts.heartbeatKubeConfig ?? opts.kubeConfig;
    this.core = coreV1Requests(heartbeat);
    // Upstream registers (create, or read and patch the existing Node) through kubeClient.
    this.registrationCore = coreV1Requests(opts.kubeConfig);
    this.lease = new NodeLeaseController({
      core: this.core,
      coordination: coordinationV1Requests(heartbeat),
      nodeName: this.config.nodeName,
      leaseDurationSeconds: this.config.nodeLeaseDurationSeconds,
      renewIntervalMs: this.config.leaseRenewIntervalMs,
      clock: this.clock,
      onError: opts.onError,
      onRenew: opts.onLeaseRenew,
      onRepeatedHeartbeatFailure: opts.onRepeatedHeartbeatFailure,
    });
    // On the heartbeat client (upstream's node informer is on kubeClient): its watch then never
    // waits behind the main client's QPS, and the rounds' comparisons stay current.
    this.node = new Informer<Wire<V1Node>>({
      kubeConfig: heartbeat,
      resource: { apiVersion: 'v1', plural: 'nodes' },
      fieldSelector: `metadata.name=${this.config.nodeName}`,
      onError: (err) => opts.onError?.(err, 'node watch'),
    });
  }

  /** The Node as the node watch last delivered it (undefined before its first list, or once deleted). */
  get watchedNode(): Wire<V1Node> | undefined {
    return this.node.get(this.config.nodeName);
  }

  /** How the last registration went (Created, Reconciled an existing Node, or Unchanged). */
  get registration(): RegistrationOutcome | undefined {
    return this.lastRegistration;
  }

  get latestLease(): Wire<V1Lease> | undefined {
    return this.lease.latestLease;
  }

  /**
   * Registers (retrying until it works), sends the first status, then runs status and lease
   * loops, and until the Node is Ready the fast status update.
   */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.ensureRegistered();
    if (this.sleeper.isStopped) return;
    this.node.start();
    await this.syncStatus();
    this.lease.start();
    this.loop = this.run();
    if (this.conditions?.find((c) => c.type === 'Ready')?.status !== 'True')
      this.fastUpdate = this.fastStatusUpdateOnce();
  }

  /** Stops the status and lease loops; resolves when both have ended. */
  async stop(): Promise<void> {
    this.sleeper.stop();
    await Promise.all([this.loop, this.fastUpdate, this.lease.stop(), this.node.stop()]);
  }

  /**
   * Upstream's fastStatusUpdateOnce: while the Node is not Ready, the kubelet's own readiness is
   * looked at every 100 ms and the status sent as soon as it would turn Ready (a CSINode set up,
   * the network plugin ready), not at the next nodeStatusUpdateFrequency. It gives up after
   * nodeReadyGracePeriod (2 min), as upstream.
   */
  private async fastStatusUpdateOnce(): Promise<void> {
    const start = this.clock.now();
    while (await this.sleeper.sleep(FAST_STATUS_UPDATE_PERIOD_MS)) {
      if (this.clock.now() - start >= NODE_READY_GRACE_PERIOD_MS) {
        const message = 'Node not becoming ready in time after startup';
        this.opts.onError?.(new Error(message), message);
        return;
      }
      const ready = this.watchedNode?.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready) continue;
      if (ready.status === 'True') return;
      if (!(await evaluateReadyChecks(this.opts.readyChecks ?? [])).ready) continue;
      await this.syncStatus();
      return;
    }
  }

  private async run(): Promise<void> {
    while (await this.sleeper.sleep(this.config.nodeStatusUpdateFrequencyMs)) {
      await this.syncStatus();
    }
  }

  /**
   * One status round, as upstream's updateNodeStatus: up to five tries of tryUpdateNodeStatus.
   * A try that fails after the first calls onRepeatedHeartbeatFailure (the kubelet closes its
   * connections then, so a hung one is not tried again). Registers the Node first when it has
   * not been (a round before start()). Returns whether a patch was accepted.
   */
  async syncStatus(): Promise<boolean> {
    const round = this.round.then(() => this.statusRound());
    this.round = round.catch(() => undefined);
    return round;
  }

  private async statusRound(): Promise<boolean> {
    if (!this.registered)
      await this.ensureRegistered().catch((err: unknown) =>
        this.opts.onError?.(err, 'Unable to register node with API server'),
      );
    if (!this.registered) return false;
    for (let i = 0; i < NODE_STATUS_UPDATE_RETRY && !this.sleeper.isStopped; i++) {
      try {
        return await this.tryUpdateNodeStatus(i);
      } catch (err) {
        if (i > 0) this.opts.onRepeatedHeartbeatFailure?.();
        this.opts.onError?.(err, 'Error updating node status, will retry');
      }
    }
    if (!this.sleeper.isStopped)
      this.opts.onError?.(
        new Error('update node status exceeds retry count'),
        'Unable to update node status',
      );
    return false;
  }

  /**
   * One try, like upstream's tryUpdateNodeStatus: read the Node (the node watch's copy on the
   * first try, the server's on the others), compute the status from it, and patch when the copy
   * differs (heartbeat times aside), lacks the OS and architecture labels, or when the report
   * interval passed. Comparing with the server's copy rather than with the last post is what
   * repairs a status someone else changed (the node lifecycle controller's Ready=Unknown after
   * an outage) within one update period instead of one report period. A Node deleted after
   * registration is not registered again, as upstream's kubelet does not register twice: every
   * try fails until the kubelet restarts. Returns whether a patch was accepted.
   */
  private async tryUpdateNodeStatus(tryNumber: number): Promise<boolean> {
    const current = await this.readNode(tryNumber);
    // Start from the server's conditions, as upstream runs its setters on the server's
    // copy: a condition someone else flipped gets a fresh lastTransitionTime when ours
    // flips it back.
    const serverConditions = current.status?.conditions;
    if (serverConditions && serverConditions.length > 0) this.conditions = serverConditions;
    const machine = await this.machineInfo();
    const status = await this.computeStatus(machine);
    // A list the server still has and the kubelet no longer uses is cleared with an empty one:
    // a patch without the field would leave it (upstream's two-way patch sends null).
    if (!status.volumesInUse && (current.status?.volumesInUse?.length ?? 0) > 0) status.volumesInUse = [];
    const labels = requiredLabelsToSet(current, machine.operatingSystem, machine.architecture);
    const now = this.clock.now();
    if (
      !labels &&
      !nodeStatusHasChanged(current.status, status) &&
      now - this.lastReportAt < this.config.nodeStatusReportFrequencyMs
    ) {
      return false;
    }
    await this.patchStatus(status, labels);
    this.lastReportAt = now;
    this.opts.onStatusUpdate?.(status);
    return true;
  }

  /**
   * The Node to compare with: on the first try the node watch's copy (upstream's nodeLister; a GET
   * while the watch has not listed yet), on later tries the server's (a conflict or a stale copy
   * is then read afresh). A Node that is gone fails the try.
   */
  private async readNode(tryNumber: number): Promise<Wire<V1Node>> {
    const watched = tryNumber === 0 && this.node.hasSynced() ? this.watchedNode : undefined;
    if (watched) return watched;
    try {
      return await this.core.readNode({ name: this.config.nodeName });
    } catch (err) {
      throw new Error(`error getting node "${this.config.nodeName}": ${errorMessage(err)}`, { cause: err });
    }
  }

  private async patchStatus(status: NodeStatusWire, labels?: Record<string, string>): Promise<void> {
    await this.core.patchNodeStatus(
      { name: this.config.nodeName, body: statusPatch(status, labels) },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  /** Registers (retrying until it works or the reporter stops). */
  private async ensureRegistered(): Promise<void> {
    const machine = await this.machineInfo();
    const result = await registerNodeWithRetry(
      this.registrationCore,
      initialNode(this.config, machine.operatingSystem, machine.architecture),
      this.config,
      machine.operatingSystem,
      machine.architecture,
      this.sleeper,
      this.opts.onError,
    );
    if (!result) return;
    this.registered = true;
    this.lastRegistration = result.outcome;
    // Keep transition times of an existing Node's conditions.
    this.conditions = result.node.status?.conditions ?? this.conditions;
  }

  /**
   * The machine facts for this status. Read in full once, as upstream's kubelet does
   * (GetCachedMachineInfo: "the machine info can't change without a reboot"); afterwards only the
   * root filesystem's size is read again (cAdvisor's RootFsInfo at every update). An injected
   * `machineInfo` is asked every time.
   */
  private async machineInfo(): Promise<MachineInfo> {
    try {
      if (this.opts.machineInfo) this.machine = await this.opts.machineInfo();
      else if (!this.machine) this.machine = await readMachineInfo(this.machineSourceOptions());
      else {
        const ephemeralStorageBytes = await readEphemeralStorageBytes(this.machineSourceOptions());
        this.machine = { ...this.machine, ephemeralStorageBytes };
      }
    } catch (err) {
      if (!this.machine) throw err;
      this.opts.onError?.(err, 'read machine info');
    }
    return this.machine;
  }

  private machineSourceOptions() {
    return { rootDir: this.config.rootDir, source: this.opts.machineSource };
  }

  private async computeStatus(machine: MachineInfo): Promise<NodeStatusWire> {
    if (this.opts.runtimeVersion) {
      try {
        this.runtime = await this.opts.runtimeVersion();
      } catch (err) {
        this.opts.onError?.(err, 'container runtime version');
      }
    }
    if (this.opts.runtimeStatus) {
      try {
        this.runtimeFeatures = await this.opts.runtimeStatus();
      } catch (err) {
        this.opts.onError?.(err, 'container runtime status');
      }
    }
    const [verdict, pressure, images] = await Promise.all([
      evaluateReadyChecks(this.opts.readyChecks ?? []),
      Promise.resolve(this.opts.pressure?.() ?? {}),
      this.opts.images?.().catch((err: unknown) => {
        this.opts.onError?.(err, 'list images');
        return [];
      }) ?? Promise.resolve([]),
    ]);
    const previous = this.conditions;
    this.conditions = nextConditions(
      previous,
      { ready: verdict.ready, notReadyErrors: verdict.errors, ...pressure },
      new Date(this.clock.now()),
    );
    for (const reason of conditionEventReasons(previous, this.conditions))
      this.opts.onConditionEvent?.(reason);
    const computed = computeCapacity({
      machine,
      maxPods: this.config.maxPods,
      podsPerCore: this.config.podsPerCore,
      kubeReserved: this.config.kubeReserved,
      systemReserved: this.config.systemReserved,
      evictionHard: this.config.evictionHard,
      localStorageCapacityIsolation: this.config.localStorageCapacityIsolation,
    });
    const devices = this.opts.extendedResources?.();
    const capacity = { ...computed.capacity, ...devices?.capacity };
    const allocatable = { ...computed.allocatable, ...devices?.allocatable };
    return buildNodeStatus({
      capacity,
      allocatable,
      // Only the conditions the kubelet owns: the patch merges by type, so conditions other
      // components set (NetworkUnavailable, ...) stay as they wrote them.
      conditions: this.conditions.filter((c) => MANAGED.has(c.type)),
      addresses: nodeAddresses(this.config.nodeIPs, this.config.hostname),
      machine,
      runtime: this.runtime,
      images,
      maxImages: this.config.nodeStatusMaxImages,
      kubeletPort: this.config.port,
      kubeletVersion: this.config.kubeletVersion,
      declaredFeatures: this.config.declaredFeatures,
      runtimeStatus: this.runtimeFeatures,
      volumesInUse: this.opts.volumesInUse?.(),
    });
  }
}
