import { fileURLToPath } from 'node:url';

/** The part of tools/containerd's RunningContainerd these tests and the benchmark use. */
export interface PrivateContainerd {
  /** tools/containerd's ContainerdVersion. */
  version: '1.6' | '2.1';
  endpoint: string;
  baseDir: string;
  podSubnet: string;
  netnsPath: string;
  images?: { pause: { name: string }; busybox: { name: string } };
  stop(): Promise<void>;
}

// Loaded by path rather than a static import so this package's typecheck does not pull in the
// tools project (and everything it references); the toolbox is typechecked on its own.
const TOOLS_CONTAINERD = fileURLToPath(
  new URL('../../../../tools/containerd/containerd.ts', import.meta.url),
);

/** tools/containerd's StartContainerdOptions these tests use; the version defaults to NODEAGENT_CONTAINERD. */
export interface PrivateContainerdOptions {
  version?: PrivateContainerd['version'];
  images?: boolean;
}

export async function startPrivateContainerd(
  opts: PrivateContainerdOptions = {},
): Promise<PrivateContainerd> {
  const mod = (await import(TOOLS_CONTAINERD)) as {
    startContainerd: (opts: PrivateContainerdOptions) => Promise<PrivateContainerd>;
  };
  return mod.startContainerd(opts);
}
