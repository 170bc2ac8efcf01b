import type { Mounter } from '@nodeagent/kubelet/volumes';

/**
 * Memory-backed volumes and local PersistentVolumes without mounts: a hollow node never mounts on the host (there is one host
 * under a thousand nodes). It remembers what it "mounted" so unmount and isMountPoint answer as
 * the kernel would.
 */
export function hollowMounter(): Mounter {
  const mounted = new Set<string>();
  return {
    async mountTmpfs(target) {
      mounted.add(target);
    },
    // A local PersistentVolume's bind mount: remembered, never made.
    async bindMount(_source, target) {
      mounted.add(target);
    },
    async unmount(target) {
      if (!mounted.delete(target)) throw new Error(`umount: ${target}: not mounted`);
    },
    async isMountPoint(target) {
      return mounted.has(target);
    },
  };
}
