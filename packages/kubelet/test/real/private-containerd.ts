import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createCriClient } from '@nodeagent/cri-client';
import type { Kubelet } from '../../src/kubelet';
import { waitFor } from '../helpers/wait-for';

/** The part of tools/containerd's RunningContainerd these tests and the benchmark use. */
export interface PrivateContainerd {
  endpoint: string;
  baseDir: string;
  podSubnet: string;
  netnsPath: string;
  /** The runc the runtime's shim runs ('1.3' idmaps mounts: user namespaces on containerd 2.1). */
  runc?: '1.1' | '1.3';
  images?: { pause: { name: string }; busybox: { name: string } };
  stop(): Promise<void>;
}

// Loaded by path so this package's typecheck does not pull in the tools project.
const toolsContainerd = fileURLToPath(new URL('../../../../tools/containerd/containerd.ts', import.meta.url));

/**
 * A private containerd whose CRI plugin reports the imported images. `ctr images import` returns
 * once an image is in containerd's metadata store; the CRI plugin learns of it later, from the
 * image-create event, so on a loaded machine an ImageStatus right after the start could still
 * answer that the image is not present.
 */
export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  const mod = (await import(toolsContainerd)) as { startContainerd: () => Promise<PrivateContainerd> };
  const containerd = await mod.startContainerd();
  if (!containerd.images) return containerd;
  const refs = [containerd.images.pause.name, containerd.images.busybox.name];
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const reported = async (ref: string) =>
    Boolean((await client.imageStatus({ image: { image: ref } })).image);
  try {
    await waitFor(
      `the CRI plugin to report the imported images ${refs.join(', ')}`,
      async () => (await Promise.all(refs.map(reported))).every(Boolean),
      30_000,
    );
    return containerd;
  } catch (error) {
    await containerd.stop();
    throw error;
  } finally {
    client.close();
  }
}

/** What a real kubelet test started on a private containerd, taken down by tearDownKubeletNode. */
export interface KubeletNodeParts {
  kubelets: readonly (Kubelet | undefined)[];
  client?: { close(): void };
  api?: { close(): Promise<void> };
  containerd?: PrivateContainerd;
  dir?: string;
}

/**
 * Removes every pod from each kubelet and lets it settle (so containerd's sandboxes and their
 * network namespaces go), stops the kubelets, then closes the CRI client and the API server,
 * stops containerd and deletes the test's directory. Parts a failed set-up never made are skipped.
 */
export async function tearDownKubeletNode(parts: KubeletNodeParts): Promise<void> {
  for (const kubelet of parts.kubelets) {
    if (!kubelet) continue;
    for (const p of kubelet.getPods()) kubelet.removePod(p);
    await kubelet.settle().catch(() => undefined);
    await kubelet.stop();
  }
  parts.client?.close();
  await parts.api?.close();
  await parts.containerd?.stop();
  if (parts.dir) await rm(parts.dir, { recursive: true, force: true });
}
