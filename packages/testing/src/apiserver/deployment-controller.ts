import type { ControllerClock } from './controller-clock';
import { recordEvent } from './controller-events';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import type { matchesStructuredSelector } from './label-selector';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

export const DEPLOYMENTS = findResourceType('apps', 'v1', 'deployments') as ResourceType;
const REPLICASETS = findResourceType('apps', 'v1', 'replicasets') as ResourceType;
const COMPONENT = 'deployment-controller';
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

/** The running Deployment controller. */
export type DeploymentController = RunningController;

type Obj = Record<string, unknown>;
type Selector = Parameters<typeof matchesStructuredSelector>[0];

/** rand.SafeEncodeString's alphabet: no vowels, no 0/1/3 (no words, no look-alikes). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a (32 bit). */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The pod-template-hash label: an FNV-32a hash of the template (and collisionCount), its decimal
 * digits mapped through SafeEncodeString as upstream does. The hashed bytes differ from
 * upstream's (which hashes Go's printed form), so the values differ; the shape is the same.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const digits = String(
    fnv32a(JSON.stringify(template ?? {}) + (collisionCount ? String(collisionCount) : '')),
  );
  return [...digits].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/** intstr (int or "25%") against a total; surge rounds up, unavailable rounds down, as upstream. */
function resolve(value: unknown, total: number, roundUp: boolean, field: string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value ?? ''));
  if (!m) throw new RangeError(`${field}: must be an integer or a percentage, got ${JSON.stringify(value)}`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

const replicasOf = (rs: KubeObject) => Number((rs.spec as Obj | undefined)?.replicas ?? 0);
const statusNum = (o: KubeObject, f: string) => Number((o.status as Obj | undefined)?.[f] ?? 0);
const controllerUid = (o: KubeObject) => (o.metadata.ownerReferences ?? []).find((r) => r.controller)?.uid;

/**
 * kube-controller-manager's deployment controller, reduced to what a test cluster needs: one
 * ReplicaSet per pod template (`<deployment>-<pod-template-hash>`, the hash label added to its
 * selector, template and labels, revision annotation), RollingUpdate by maxSurge /
 * maxUnavailable (old ReplicaSets' unavailable pods go first, then down to the minimum
 * available) or Recreate (old ones to 0, the new one once their pods are gone), events
 * `ScalingReplicaSet` "Scaled up|down replica set <rs> from <n> to <m>", old ReplicaSets beyond
 * revisionHistoryLimit deleted, and status replicas / updatedReplicas / readyReplicas /
 * availableReplicas / unavailableReplicas / observedGeneration with the Available and
 * Progressing conditions. Not done: pause, rollback, progressDeadlineSeconds, adoption of
 * orphaned ReplicaSets.
 */
export function startDeploymentController(
  registry: ResourceRegistry,
  clock: ControllerClock,
): DeploymentController {
  const queue = new ControllerQueue((key) => syncDeployment({ registry, clock }, key));

  const unsubscribe = registry.store.subscribe((e) => {
    if (e.resource === 'apps/deployments') {
      if (e.type !== 'DELETED') queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
      return;
    }
    if (e.resource !== 'apps/replicasets') return;
    const ref = (e.object.metadata.ownerReferences ?? []).find(
      (r) => r.controller && r.kind === 'Deployment',
    );
    if (ref) queue.add(`${e.object.metadata.namespace}/${ref.name}`);
  });
  for (const d of registry.list(DEPLOYMENTS, undefined))
    queue.add(`${d.metadata.namespace}/${d.metadata.name}`);

  return {
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
    },
  };
}

/** What each step of a sync reads and writes through. */
interface DeploymentControllerDeps {
  readonly registry: ResourceRegistry;
  readonly clock: ControllerClock;
}

/** One Deployment as a sync sees it: its spec read once, its ReplicaSets split into new and old. */
interface Rollout {
  readonly d: KubeObject;
  readonly ns: string;
  readonly name: string;
  readonly uid: string;
  readonly spec: Obj;
  readonly replicas: number;
  /** A copy: what is built from it must not share (and let defaulting change) the stored template. */
  readonly template: { metadata?: Obj; spec?: Obj };
  readonly selector: Selector;
  readonly hash: string;
  /** Every ReplicaSet the Deployment controls. */
  readonly owned: KubeObject[];
  /** The owned ReplicaSet of the current template, if one exists yet. */
  readonly existingNew: KubeObject | undefined;
  /** The ReplicaSets of other templates, oldest first. */
  readonly old: KubeObject[];
  readonly recreate: boolean;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
}

/** Sets the ReplicaSet's replicas to `to` (unless it has them), with upstream's ScalingReplicaSet event. */
function scale(deps: DeploymentControllerDeps, d: KubeObject, rs: KubeObject, to: number): KubeObject {
  const from = replicasOf(rs);
  if (from === to) return rs;
  const updated = deps.registry.update(REPLICASETS, rs.metadata.namespace, rs.metadata.name as string, {
    ...rs,
    spec: { ...((rs.spec as Obj) ?? {}), replicas: to },
  });
  recordEvent(deps.registry, deps.clock.now(), {
    object: d,
    type: 'Normal',
    reason: 'ScalingReplicaSet',
    message: `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`,
    component: COMPONENT,
  });
  return updated;
}

/** One pass for the Deployment `namespace/name`: ReplicaSets to the strategy's next step, old ones pruned, status. */
function syncDeployment(deps: DeploymentControllerDeps, key: string): void {
  const [ns, name] = key.split('/') as [string, string];
  const d = deps.registry.find(DEPLOYMENTS, ns, name);
  if (!d || d.metadata.deletionTimestamp) return;
  const rollout = readRollout(deps.registry, d, ns, name);
  let newRS = rollout.existingNew ?? createNewReplicaSet(deps, rollout);
  newRS = rollout.recreate ? stepRecreate(deps, rollout, newRS) : stepRollingUpdate(deps, rollout, newRS);
  pruneHistory(deps.registry, rollout, newRS);
  writeStatus(deps, rollout, newRS);
}

function readRollout(registry: ResourceRegistry, d: KubeObject, ns: string, name: string): Rollout {
  const spec = (d.spec ?? {}) as Obj;
  const replicas = Number(spec.replicas ?? 1);
  const template = structuredClone(spec.template ?? {}) as { metadata?: Obj; spec?: Obj };
  const uid = d.metadata.uid as string;
  const owned = registry.list(REPLICASETS, ns).filter((rs) => controllerUid(rs) === uid);
  const hash = podTemplateHash(template, Number((d.status as Obj | undefined)?.collisionCount ?? 0));
  const existingNew = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
  const old = owned
    .filter((rs) => rs !== existingNew)
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  const strategy = (spec.strategy ?? {}) as { type?: string; rollingUpdate?: Obj };
  const recreate = strategy.type === 'Recreate';
  const maxSurge = recreate
    ? 0
    : resolve(
        strategy.rollingUpdate?.maxSurge ?? '25%',
        replicas,
        true,
        'spec.strategy.rollingUpdate.maxSurge',
      );
  let maxUnavailable = recreate
    ? replicas
    : resolve(
        strategy.rollingUpdate?.maxUnavailable ?? '25%',
        replicas,
        false,
        'spec.strategy.rollingUpdate.maxUnavailable',
      );
  if (!recreate && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const selector = (spec.selector ?? {}) as Selector;
  return {
    d,
    ns,
    name,
    uid,
    spec,
    replicas,
    template,
    selector,
    hash,
    owned,
    existingNew,
    old,
    recreate,
    maxSurge,
    maxUnavailable,
  };
}

/** The ReplicaSet of the current template (`<deployment>-<hash>`), scaled to its first size. */
function createNewReplicaSet(deps: DeploymentControllerDeps, r: Rollout): KubeObject {
  const { replicas, maxSurge, hash, template, selector } = r;
  const revision = Math.max(0, ...r.owned.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0))) + 1;
  const labels = { ...((template.metadata?.labels as Record<string, string>) ?? {}), [HASH_LABEL]: hash };
  const oldTotal = r.old.reduce((n, rs) => n + replicasOf(rs), 0);
  // First scale of a new ReplicaSet: everything when nothing else runs, else what the surge allows.
  const initial =
    r.old.length === 0 || r.recreate
      ? r.recreate && oldTotal > 0
        ? 0
        : replicas
      : Math.max(0, Math.min(replicas, replicas + maxSurge - oldTotal));
  const created = deps.registry.create(REPLICASETS, r.ns, {
    metadata: {
      name: `${r.name}-${hash}`,
      labels,
      annotations: {
        [REVISION]: String(revision),
        'deployment.kubernetes.io/desired-replicas': String(replicas),
        'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge),
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: r.name,
          uid: r.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: 0,
      minReadySeconds: r.spec.minReadySeconds ?? 0,
      selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash } },
      template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
    },
  });
  return scale(deps, r.d, created, initial);
}

/** Recreate: old ReplicaSets to 0, the new one to full size once their pods are gone. */
function stepRecreate(deps: DeploymentControllerDeps, r: Rollout, newRS: KubeObject): KubeObject {
  for (const rs of r.old) scale(deps, r.d, rs, 0);
  const oldPods = r.old.reduce((n, rs) => n + statusNum(rs, 'replicas'), 0);
  return oldPods === 0 ? scale(deps, r.d, newRS, r.replicas) : newRS;
}

/** RollingUpdate: the new ReplicaSet up within maxSurge, then old ones down within maxUnavailable. */
function stepRollingUpdate(deps: DeploymentControllerDeps, r: Rollout, newRS: KubeObject): KubeObject {
  const { replicas, old } = r;
  const total = [newRS, ...old].reduce((n, rs) => n + replicasOf(rs), 0);
  const current = replicasOf(newRS);
  let scaledNew = newRS;
  if (current > replicas) scaledNew = scale(deps, r.d, newRS, replicas);
  else if (current < replicas) {
    const up = Math.min(replicas + r.maxSurge - total, replicas - current);
    if (up > 0) scaledNew = scale(deps, r.d, newRS, current + up);
  }
  for (const [rs, to] of oldScaleDown(r, scaledNew)) scale(deps, r.d, rs, to);
  return scaledNew;
}

/**
 * How far each old ReplicaSet goes down, keeping replicas - maxUnavailable available: first
 * their unavailable pods (as far as the surplus allows), then available ones down to that minimum.
 */
function oldScaleDown(r: Rollout, newRS: KubeObject): Map<KubeObject, number> {
  const { old } = r;
  const minAvailable = r.replicas - r.maxUnavailable;
  const newUnavailable = Math.max(0, replicasOf(newRS) - statusNum(newRS, 'availableReplicas'));
  const allTotal = [newRS, ...old].reduce((n, rs) => n + replicasOf(rs), 0);
  let unhealthyBudget = Math.max(0, allTotal - minAvailable - newUnavailable);
  const scaled = new Map<string, number>();
  for (const rs of old) {
    const unhealthy = Math.max(0, replicasOf(rs) - statusNum(rs, 'availableReplicas'));
    const down = Math.min(unhealthy, unhealthyBudget);
    if (down > 0) {
      scaled.set(rs.metadata.name as string, replicasOf(rs) - down);
      unhealthyBudget -= down;
    }
  }
  const available = [newRS, ...old].reduce((n, rs) => n + statusNum(rs, 'availableReplicas'), 0);
  let availableBudget = Math.max(0, available - minAvailable);
  for (const rs of old) {
    const now = scaled.get(rs.metadata.name as string) ?? replicasOf(rs);
    const down = Math.min(now, availableBudget);
    if (down > 0) {
      scaled.set(rs.metadata.name as string, now - down);
      availableBudget -= down;
    }
  }
  const out = new Map<KubeObject, number>();
  for (const rs of old) {
    const to = scaled.get(rs.metadata.name as string);
    if (to !== undefined) out.set(rs, to);
  }
  return out;
}

/** Old ReplicaSets beyond revisionHistoryLimit, once empty, go (oldest first). */
function pruneHistory(registry: ResourceRegistry, r: Rollout, newRS: KubeObject): void {
  const limit = Number(r.spec.revisionHistoryLimit ?? 10);
  const empty = registry
    .list(REPLICASETS, r.ns)
    .filter((rs) => controllerUid(rs) === r.uid && rs.metadata.name !== newRS.metadata.name)
    .filter((rs) => replicasOf(rs) === 0 && statusNum(rs, 'replicas') === 0);
  for (const rs of empty.slice(0, Math.max(0, empty.length - limit)))
    registry.delete(REPLICASETS, r.ns, rs.metadata.name as string);
}

/** The Deployment's status from its ReplicaSets' (counts, Available and Progressing), written when it changed. */
function writeStatus(deps: DeploymentControllerDeps, r: Rollout, newRS: KubeObject): void {
  const { registry } = deps;
  const { replicas, ns, name } = r;
  const all = registry.list(REPLICASETS, ns).filter((rs) => controllerUid(rs) === r.uid);
  const latestNew = all.find((rs) => rs.metadata.name === newRS.metadata.name) ?? newRS;
  const sum = (f: string) => all.reduce((n, rs) => n + statusNum(rs, f), 0);
  const availableNow = sum('availableReplicas');
  const updated = statusNum(latestNew, 'replicas');
  const complete =
    updated === replicas &&
    sum('replicas') === replicas &&
    availableNow === replicas &&
    replicasOf(latestNew) === replicas;
  const current = registry.find(DEPLOYMENTS, ns, name);
  if (!current) return;
  const oldStatus = (current.status ?? {}) as Obj;
  const condition = conditionStamper(oldStatus, `${deps.clock.now().toISOString().slice(0, 19)}Z`);
  const rsName = latestNew.metadata.name;
  const status: Obj = {
    ...oldStatus,
    observedGeneration: current.metadata.generation,
    replicas: sum('replicas'),
    updatedReplicas: updated,
    readyReplicas: sum('readyReplicas'),
    availableReplicas: availableNow,
    unavailableReplicas: Math.max(0, replicas - availableNow),
    conditions: [
      availableNow >= replicas - r.maxUnavailable
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : condition(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
          ),
      complete
        ? condition(
            'Progressing',
            'True',
            'NewReplicaSetAvailable',
            `ReplicaSet "${rsName}" has successfully progressed.`,
          )
        : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
    ],
  };
  if (JSON.stringify(status) !== JSON.stringify(oldStatus))
    registry.update(DEPLOYMENTS, ns, name, { ...current, status }, 'status');
}

/**
 * Builds a condition that keeps its previous lastTransitionTime while its status holds and its
 * lastUpdateTime while its reason holds too; `stamp` otherwise.
 */
function conditionStamper(
  oldStatus: Obj,
  stamp: string,
): (type: string, status: string, reason: string, message: string) => Obj {
  const oldConds = (oldStatus.conditions as Obj[] | undefined) ?? [];
  return (type, status, reason, message) => {
    const prev = oldConds.find((c) => c.type === type);
    const same = prev?.status === status;
    return {
      type,
      status,
      lastUpdateTime: prev && same && prev.reason === reason ? prev.lastUpdateTime : stamp,
      lastTransitionTime: same ? prev?.lastTransitionTime : stamp,
      reason,
      message,
    };
  };
}
