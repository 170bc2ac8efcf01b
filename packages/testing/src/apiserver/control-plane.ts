import { type ControllerClock, systemClock } from './controller-clock';
import type { RunningController } from './controller-queue';
import { type DeploymentController, startDeploymentController } from './deployment-controller';
import {
  type NodeLifecycleController,
  type NodeLifecycleControllerOptions,
  startNodeLifecycleController,
} from './node-lifecycle-controller';
import { type PodGarbageCollector, startPodGarbageCollector } from './pod-garbage-collector';
import {
  type ReplicaSetController,
  type ReplicaSetControllerOptions,
  startReplicaSetController,
} from './replicaset-controller';
import { type ResourceClaimController, startResourceClaimController } from './resource-claim-controller';
import type { ResourceRegistry } from './resource-registry';
import { type Scheduler, type SchedulerOptions, startScheduler } from './scheduler';
import { startTaintEvictionController, type TaintEvictionController } from './taint-eviction-controller';

export type { NodeLifecycleControllerOptions, ReplicaSetControllerOptions, SchedulerOptions };

/**
 * The control plane around the in-process API server (issue #19): what makes a node that stops
 * renewing its Lease NotReady, evicts its pods after their tolerations and gets them recreated
 * and placed elsewhere. Each part is on unless set to `false`.
 */
export interface ControlPlaneOptions {
  /** Time source of every controller's timers and timestamps; a ManualClock in tests. Default wall clock. */
  clock?: ControllerClock;
  nodeLifecycle?: boolean | NodeLifecycleControllerOptions;
  /** Taint-based eviction (taint-eviction-controller): NoExecute taints vs tolerationSeconds. */
  taintEviction?: boolean;
  scheduler?: boolean | SchedulerOptions;
  replicaSet?: boolean | ReplicaSetControllerOptions;
  /** apps/v1 Deployments: one ReplicaSet per template, RollingUpdate or Recreate. */
  deployment?: boolean;
  /** The garbage collector for pods and ReplicaSets: background, foreground and orphan propagation. */
  garbageCollector?: boolean;
  /** The resourceclaim controller (DRA): claims from templates, reservedFor cleanup, deallocation. */
  resourceClaim?: boolean;
}

/** The controllers running inside the server, by part, with their shared clock. */
export interface ControlPlane {
  readonly clock: ControllerClock;
  readonly nodeLifecycle: NodeLifecycleController | undefined;
  readonly taintEviction: TaintEvictionController | undefined;
  readonly scheduler: Scheduler | undefined;
  readonly replicaSet: ReplicaSetController | undefined;
  readonly deployment: DeploymentController | undefined;
  readonly garbageCollector: PodGarbageCollector | undefined;
  readonly resourceClaim: ResourceClaimController | undefined;
  /** Resolves once every controller has handled the changes seen so far (repeats while they cause more). */
  settled(): Promise<void>;
  /** Stops every controller. */
  stop(): void;
}

function part<T extends object>(value: boolean | T | undefined): T | undefined {
  if (value === false) return undefined;
  return value === true || value === undefined ? ({} as T) : value;
}

/** Starts the control-plane controllers the options ask for, on `registry`. */
export function startControlPlane(
  registry: ResourceRegistry,
  options: ControlPlaneOptions = {},
): ControlPlane {
  const clock = options.clock ?? systemClock;
  const lifecycle = part(options.nodeLifecycle);
  const sched = part(options.scheduler);
  const rs = part(options.replicaSet);
  const started: RunningController[] = [];
  const start = <T extends RunningController>(make: () => T): T => {
    try {
      const c = make();
      started.push(c);
      return c;
    } catch (err) {
      // A bad option of a later part: stop what already runs before reporting it.
      for (const c of started) c.stop();
      throw err;
    }
  };
  const nodeLifecycle = lifecycle
    ? start(() => startNodeLifecycleController(registry, clock, lifecycle))
    : undefined;
  const taintEviction =
    options.taintEviction === false ? undefined : start(() => startTaintEvictionController(registry, clock));
  const scheduler = sched ? start(() => startScheduler(registry, clock, sched)) : undefined;
  const replicaSet = rs ? start(() => startReplicaSetController(registry, clock, rs)) : undefined;
  const deployment =
    options.deployment === false ? undefined : start(() => startDeploymentController(registry, clock));
  const garbageCollector =
    options.garbageCollector === false ? undefined : start(() => startPodGarbageCollector(registry, clock));
  const resourceClaim =
    options.resourceClaim === false ? undefined : start(() => startResourceClaimController(registry, clock));
  const parts = [
    nodeLifecycle,
    taintEviction,
    scheduler,
    replicaSet,
    deployment,
    garbageCollector,
    resourceClaim,
  ].filter((p): p is NonNullable<typeof p> => p !== undefined);
  return {
    clock,
    nodeLifecycle,
    taintEviction,
    scheduler,
    replicaSet,
    deployment,
    garbageCollector,
    resourceClaim,
    async settled() {
      // One controller's write is another's event: go round until a full pass finds nothing queued.
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setImmediate(r));
        if (parts.every((p) => p.idle())) return;
        for (const p of parts) await p.settled();
      }
    },
    stop() {
      for (const p of parts) p.stop();
    },
  };
}
