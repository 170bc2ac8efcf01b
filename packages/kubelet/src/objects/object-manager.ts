import type { Pod } from '../api/pod-types';
import type { ObjectStore } from './object-store';

function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}/${pod.metadata.uid ?? ''}`;
}

/**
 * Upstream's cacheBasedManager (pkg/kubelet/util/manager): the pods registered with it and the
 * references they hold in a store. A pod's first registration references every object it names;
 * a later one (the pod changed) references the new names and lets go of the dropped ones; its
 * unregistration lets go of all of them.
 */
export class ObjectManager<T> {
  private readonly registered = new Map<string, Pod>();

  constructor(
    private readonly store: ObjectStore<T>,
    private readonly referencedNames: (pod: Pod) => Set<string>,
  ) {}

  getObject(namespace: string, name: string): Promise<T | undefined> {
    return this.store.get(namespace, name);
  }

  registerPod(pod: Pod): void {
    const key = podKey(pod);
    const namespace = pod.metadata.namespace ?? '';
    const names = this.referencedNames(pod);
    const previous = this.registered.get(key);
    this.registered.set(key, pod);
    if (!previous) {
      for (const name of names) this.store.addReference(namespace, name);
      return;
    }
    // The same pod again (every sync): only what changed in its spec moves a reference.
    if (previous === pod) return;
    const previousNames = this.referencedNames(previous);
    for (const name of names) if (!previousNames.has(name)) this.store.addReference(namespace, name);
    for (const name of previousNames) if (!names.has(name)) this.store.deleteReference(namespace, name);
  }

  unregisterPod(pod: Pod): void {
    const key = podKey(pod);
    const previous = this.registered.get(key);
    if (!previous) return;
    this.registered.delete(key);
    for (const name of this.referencedNames(previous))
      this.store.deleteReference(previous.metadata.namespace ?? '', name);
  }

  stop(): Promise<void> {
    return this.store.stop();
  }
}
