import type { FsStats } from '@nodeagent/kubelet/stats';

/**
 * The image filesystem as upstream's image GC sees it: its first pass (at start, in
 * StartGarbageCollection) runs before cadvisor, started with the runtime-dependent modules, has
 * measured any filesystem, so the CRI stats provider reports the image filesystem without
 * capacity and the pass records InvalidDiskCapacity on the Node; later passes see the capacity.
 * Only image GC reads through this: /stats/summary and eviction read the filesystem as it is.
 */
export function imageFsAsImageGCSeesIt(
  imageFs: () => Promise<FsStats | undefined>,
): () => Promise<FsStats | undefined> {
  let measured = false;
  return async () => {
    const fs = await imageFs();
    if (measured || !fs) return fs;
    measured = true;
    const { capacityBytes: _capacity, availableBytes: _available, ...unmeasured } = fs;
    return unmeasured;
  };
}
