import type { ControllerClock } from './controller-clock';
import { recordEvent } from './controller-events';
import { ControllerQueue, type RunningController } from './controller-queue';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

const PODS = findResourceType('', 'v1', 'pods') as ResourceType;
const CLAIMS = findResourceType('', 'v1', 'persistentvolumeclaims') as ResourceType;
const COMPONENT = 'ephemeral_volume';

/** The running ephemeral volume controller. */
export type EphemeralVolumeController = RunningController;

type Obj = Record<string, unknown>;
interface EphemeralVolume {
  name: string;
  ephemeral?: { volumeClaimTemplate?: { metadata?: Obj; spec?: Obj } };
}

/** Upstream ephemeral.VolumeClaimName: a generic ephemeral volume's claim is `<pod>-<volume>`. */
export function ephemeralClaimName(podName: string, volumeName: string): string {
  return `${podName}-${volumeName}`;
}

/** Upstream metav1.IsControlledBy: the object's controller owner reference names the owner's uid. */
function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && r.uid === owner.metadata.uid,
  );
}

/**
 * kube-controller-manager's ephemeral volume controller: for each generic ephemeral volume of a
 * pod that is not being deleted, creates the PersistentVolumeClaim `<pod>-<volume>` from the
 * volume's claim template, owned by the pod (controller: true, blockOwnerDeletion: true). A claim
 * of that name that another object controls is left alone, and the pod gets upstream's
 * FailedBinding event. Binding the claim is the provisioner's (the test's) job.
 */
export function startEphemeralVolumeController(
  registry: ResourceRegistry,
  clock: ControllerClock,
): EphemeralVolumeController {
  function sync(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const pod = registry.find(PODS, ns, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const volumes = ((pod.spec as { volumes?: EphemeralVolume[] } | undefined)?.volumes ?? []).filter(
      (v) => v.ephemeral,
    );
    for (const volume of volumes) {
      const claimName = ephemeralClaimName(name, volume.name);
      const existing = registry.find(CLAIMS, ns, claimName);
      let error: string | undefined;
      if (existing) {
        if (!isControlledBy(existing, pod))
          error = `PVC ${ns}/${claimName} was not created for pod ${ns}/${name} (pod is not owner)`;
      } else {
        const template = structuredClone(volume.ephemeral?.volumeClaimTemplate ?? {});
        try {
          registry.create(CLAIMS, ns, {
            metadata: {
              name: claimName,
              namespace: ns,
              ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
              ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
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
            spec: template.spec ?? {},
          });
        } catch (err) {
          error = `create PVC ${claimName}: ${(err as Error).message}`;
        }
      }
      if (error)
        recordEvent(registry, clock.now(), {
          object: { ...pod, kind: 'Pod', apiVersion: 'v1' },
          type: 'Warning',
          reason: 'FailedBinding',
          message: `ephemeral volume ${volume.name}: ${error}`,
          component: COMPONENT,
        });
    }
  }
  const queue = new ControllerQueue(sync);
  const unsubscribe = registry.store.subscribe((e) => {
    if (e.resource !== '/pods' || e.type === 'DELETED') return;
    queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
  });
  for (const pod of registry.list(PODS, undefined))
    queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  return {
    settled: () => queue.settled(),
    idle: () => queue.idle(),
    stop() {
      queue.stop();
      unsubscribe();
    },
  };
}
