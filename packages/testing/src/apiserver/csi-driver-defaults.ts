type Obj = Record<string, unknown>;

/**
 * storage/v1 SetDefaults_CSIDriver: attachRequired and podInfoOnMount as the API documents them,
 * fsGroupPolicy ReadWriteOnceWithFSType, requiresRepublish, storageCapacity and seLinuxMount
 * false, volumeLifecycleModes [Persistent] (the kubelet refuses a CSIDriver without an
 * fsGroupPolicy, as upstream's does, so a server that skipped this would break every mount).
 */
export function defaultCsiDriver(obj: Obj): void {
  const spec = (obj.spec ?? {}) as Obj;
  spec.attachRequired ??= true;
  spec.podInfoOnMount ??= false;
  spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
  spec.requiresRepublish ??= false;
  spec.storageCapacity ??= false;
  spec.seLinuxMount ??= false;
  if (!Array.isArray(spec.volumeLifecycleModes) || spec.volumeLifecycleModes.length === 0)
    spec.volumeLifecycleModes = ['Persistent'];
  obj.spec = spec;
}
