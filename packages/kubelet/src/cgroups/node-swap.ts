import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeSwapFacts } from '../cri/container-swap';
import { defaultCgroupMountRoot } from './cgroup-filesystem';

/** Where the host facts behind swap settings are read; injected so tests use a temporary tree. */
export interface NodeSwapSources {
  /** The cgroup mount root (default /sys/fs/cgroup). */
  mountRoot?: string;
  /** /proc/meminfo's text. */
  readMeminfo?: () => Promise<string>;
  /** /proc/self/cgroup's text (cgroup v2: the kubelet's own cgroup holds memory.swap.max). */
  readSelfCgroup?: () => Promise<string>;
}

/** SwapTotal of /proc/meminfo in bytes (cAdvisor's SwapCapacity); 0 when absent. */
export function swapTotalBytes(meminfo: string): number {
  const match = /^SwapTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : 0;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The host's swap facts for memorySwap (upstream swapControllerAvailable and machine info): on
 * cgroup v1 the controller exists when the memory hierarchy has memory.memsw.limit_in_bytes
 * (kernels built without swap accounting lack it); on v2, when the kubelet's own cgroup has
 * memory.swap.max (the root cgroup never has it). Unreadable files mean no controller, no swap.
 */
export async function detectNodeSwap(
  cgroupVersion: 1 | 2,
  sources: NodeSwapSources = {},
): Promise<Omit<NodeSwapFacts, 'behavior' | 'memoryCapacity'>> {
  const mountRoot = sources.mountRoot ?? defaultCgroupMountRoot;
  const readMeminfo = sources.readMeminfo ?? (() => readFile('/proc/meminfo', 'utf8'));
  const readSelfCgroup = sources.readSelfCgroup ?? (() => readFile('/proc/self/cgroup', 'utf8'));
  let controllerFile: string | undefined;
  if (cgroupVersion === 1) controllerFile = join(mountRoot, 'memory', 'memory.memsw.limit_in_bytes');
  else {
    // The unified hierarchy's line is "0::<path>".
    const own = (await readSelfCgroup().catch(() => ''))
      .split('\n')
      .find((line) => line.startsWith('0::'))
      ?.slice(3);
    if (own !== undefined) controllerFile = join(mountRoot, own, 'memory.swap.max');
  }
  return {
    cgroupVersion,
    swapControllerAvailable: controllerFile !== undefined && (await exists(controllerFile)),
    swapCapacity: swapTotalBytes(await readMeminfo().catch(() => '')),
  };
}
