import { fileURLToPath } from 'node:url';

/** The part of tools/containerd's RunningContainerd these tests and the benchmark use. */
export interface PrivateContainerd {
  endpoint: string;
  baseDir: string;
  podSubnet: string;
  netnsPath: string;
  images?: { pause: { name: string }; busybox: { name: string } };
  stop(): Promise<void>;
}

// Loaded by path so this package's typecheck does not pull in the tools project.
const toolsContainerd = fileURLToPath(new URL('../../../../tools/containerd/containerd.ts', import.meta.url));

export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  const mod = (await import(toolsContainerd)) as { startContainerd: () => Promise<PrivateContainerd> };
  return mod.startContainerd();
}
