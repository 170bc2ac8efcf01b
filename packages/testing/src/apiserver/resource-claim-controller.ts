import type { ControllerClock } from './controller-clock';
import { ControllerQueue, type RunningController } from './controller-queue';
import { CLAIM_PROTECTION_FINALIZER, claimIsForPod } from './dra-scheduling';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

type Obj = Record<string, unknown>;

const PODS = findResourceType('', 'v1', 'pods') as ResourceType;
const CLAIMS = findResourceType('resource.k8s.io', 'v1', 'resourceclaims') as ResourceType;
const TEMPLATES = findResourceType('resource.k8s.io', 'v1', 'resourceclaimtemplates') as ResourceType;

/** The annotation naming the pod.spec.resourceClaims entry a generated claim is for. */
export const POD_CLAIM_NAME_ANNOTATION = 'resource.kubernetes.io/pod-claim-name';

/** The running resourceclaim controller. */
export type ResourceClaimController = RunningController;

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const phaseOf = (p: KubeObject) => (p.status as { phase?: string } | undefined)?.phase;
const nodeNameOf = (p: KubeObject) => (p.spec as { nodeName?: string } | undefined)?.nodeName;

/** Upstream isPodDone: finished, or being deleted before any kubelet took it. */
function podDone(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return (
    phase === 'Succeeded' || phase === 'Failed' || (!!pod.metadata.deletionTimestamp && !nodeNameOf(pod))
  );
}

/** The pod.spec.resourceClaims entries that name a ResourceClaimTemplate. */
const templateClaims = (pod: KubeObject) =>
  list((pod.spec as Obj | undefined)?.resourceClaims).filter((pc) => pc.resourceClaimTemplateName);

/** Create the claims of a pod's template entries that are missing and record them in its status. */
function syncPod(registry: ResourceRegistry, ns: string, name: string): void {
  const pod = registry.find(PODS, ns, name);
  if (!pod || pod.metadata.deletionTimestamp || podDone(pod)) return;
  const wanted = templateClaims(pod);
  if (wanted.length === 0) return;
  const statuses = list((pod.status as Obj | undefined)?.resourceClaimStatuses);
  const added: Obj[] = [];
  const owned = registry.list(CLAIMS, ns).filter((c) => claimIsForPod(c, pod));
  for (const pc of wanted) {
    const podClaim = String(pc.name);
    if (statuses.some((s) => s.name === podClaim)) continue;
    const existing = owned.find((c) => c.metadata.annotations?.[POD_CLAIM_NAME_ANNOTATION] === podClaim);
    if (existing) {
      added.push({ name: podClaim, resourceClaimName: existing.metadata.name });
      continue;
    }
    const template = registry.find(TEMPLATES, ns, String(pc.resourceClaimTemplateName));
    // The template may come later: its creation requeues the pods of its namespace.
    if (!template) continue;
    const tspec = (template.spec ?? {}) as Obj;
    const tmeta = (tspec.metadata ?? {}) as {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    // Upstream caps the base at 57 characters so the generated name stays a valid label.
    const base = `${name}-${podClaim}`.slice(0, 57);
    const claim = registry.create(CLAIMS, ns, {
      metadata: {
        generateName: `${base}-`,
        namespace: ns,
        ...(tmeta.labels ? { labels: tmeta.labels } : {}),
        annotations: { ...(tmeta.annotations ?? {}), [POD_CLAIM_NAME_ANNOTATION]: podClaim },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            name,
            uid: pod.metadata.uid as string,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: tspec.spec ?? {},
    });
    added.push({ name: podClaim, resourceClaimName: claim.metadata.name });
  }
  if (added.length === 0) return;
  registry.update(
    PODS,
    ns,
    name,
    { ...pod, status: { ...((pod.status ?? {}) as Obj), resourceClaimStatuses: [...statuses, ...added] } },
    'status',
  );
}

/** Drop gone or done pods from a claim's reservedFor; deallocate it, or delete it with its pod, when unreserved. */
function syncClaim(registry: ResourceRegistry, ns: string, name: string): void {
  let claim = registry.find(CLAIMS, ns, name);
  if (!claim) return;
  const status = (claim.status ?? {}) as Obj;
  const reserved = list(status.reservedFor);
  const valid = reserved.filter((r) => {
    if (r.resource !== 'pods') return true;
    const pod = registry.find(PODS, ns, String(r.name));
    return pod !== undefined && pod.metadata.uid === r.uid && !podDone(pod);
  });
  if (valid.length !== reserved.length)
    claim = registry.update(
      CLAIMS,
      ns,
      name,
      { ...claim, status: { ...status, reservedFor: valid } },
      'status',
    );
  if (valid.length > 0) return;
  if ((claim.status as Obj | undefined)?.allocation) {
    const { allocation: _gone, ...rest } = (claim.status ?? {}) as Obj;
    claim = registry.update(
      CLAIMS,
      ns,
      name,
      { ...claim, status: { ...rest, reservedFor: undefined } },
      'status',
    );
  }
  if ((claim.metadata.finalizers ?? []).includes(CLAIM_PROTECTION_FINALIZER)) {
    const finalizers = (claim.metadata.finalizers ?? []).filter((f) => f !== CLAIM_PROTECTION_FINALIZER);
    const next = registry.update(CLAIMS, ns, name, {
      ...claim,
      metadata: { ...claim.metadata, finalizers },
    });
    // The last finalizer of a claim being deleted: the update removed it.
    if (!registry.find(CLAIMS, ns, name)) return;
    claim = next;
  }
  const owner = (claim.metadata.ownerReferences ?? []).find((r) => r.kind === 'Pod' && r.controller === true);
  if (!owner || claim.metadata.deletionTimestamp) return;
  const pod = registry.find(PODS, ns, owner.name);
  if (!pod || pod.metadata.uid !== owner.uid || podDone(pod)) registry.delete(CLAIMS, ns, name);
}

/**
 * kube-controller-manager's resourceclaim controller: for each pod.spec.resourceClaims entry
 * with a `resourceClaimTemplateName` it creates the claim from the template (generateName
 * `<pod>-<claim>-`, owned by the pod as controller, annotated `resource.kubernetes.io/pod-claim-name`)
 * and records it in pod.status.resourceClaimStatuses; it takes pods that are gone or done out of
 * a claim's status.reservedFor, deallocates a claim nobody reserves (clearing status.allocation
 * and the scheduler's `resource.kubernetes.io/delete-protection` finalizer) and deletes a
 * generated claim once its pod is gone or done.
 */
export function startResourceClaimController(
  registry: ResourceRegistry,
  _clock: ControllerClock,
): ResourceClaimController {
  const queue = new ControllerQueue((key) => {
    const [kind, ns, name] = key.split('/') as [string, string, string];
    if (kind === 'pod') syncPod(registry, ns, name);
    else syncClaim(registry, ns, name);
  });

  /** Claims a pod change may concern: those reserved for it or generated for it. */
  function claimsOfPod(pod: KubeObject): void {
    for (const c of registry.list(CLAIMS, pod.metadata.namespace)) {
      const reserved = list((c.status as Obj | undefined)?.reservedFor).some(
        (r) => r.uid === pod.metadata.uid,
      );
      if (reserved || claimIsForPod(c, pod)) queue.add(`claim/${c.metadata.namespace}/${c.metadata.name}`);
    }
  }

  const unsubscribe = registry.store.subscribe((e) => {
    const o = e.object;
    if (e.resource === '/pods') {
      if (e.type !== 'DELETED' && templateClaims(o).length > 0)
        queue.add(`pod/${o.metadata.namespace}/${o.metadata.name}`);
      if (e.type === 'DELETED' || podDone(o)) claimsOfPod(o);
    } else if (e.resource === 'resource.k8s.io/resourceclaims') {
      if (e.type !== 'DELETED') queue.add(`claim/${o.metadata.namespace}/${o.metadata.name}`);
    } else if (e.resource === 'resource.k8s.io/resourceclaimtemplates' && e.type === 'ADDED') {
      for (const p of registry.list(PODS, o.metadata.namespace))
        if (templateClaims(p).length > 0) queue.add(`pod/${p.metadata.namespace}/${p.metadata.name}`);
    }
  });
  for (const p of registry.list(PODS, undefined))
    if (templateClaims(p).length > 0) queue.add(`pod/${p.metadata.namespace}/${p.metadata.name}`);
  for (const c of registry.list(CLAIMS, undefined))
    queue.add(`claim/${c.metadata.namespace}/${c.metadata.name}`);

  return {
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
    },
  };
}
