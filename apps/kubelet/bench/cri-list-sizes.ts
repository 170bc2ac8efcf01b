/**
 * The encoded sizes of the CRI list replies a kubelet asks for on every relist and stats pass
 * (issue #47: gRPC's 16 MiB default receive limit, MAX_MESSAGE_BYTES in @nodeagent/cri-client, is
 * a known wall at density). Read from the runtime the bench's kubelet runs on, at each pod count,
 * by encoding each reply again with the CRI's own message types: the bytes on the wire less
 * gRPC's 5-byte frame header.
 */
import { join } from 'node:path';
import { createCriClient } from '@nodeagent/cri-client';

type Codec = { messageCodec(type: string): { encode(message: never): Uint8Array } };

/** Items and encoded bytes of one list reply, or the runtime's error when it refused the list. */
export type ListReplySize = { items: number; bytes: number } | { error: string };

const LISTS = ['ListPodSandbox', 'ListContainers', 'ListPodSandboxStats', 'ListContainerStats'] as const;

/** Each list reply's size on `endpoint` now. `repoRoot`: where cri-client's sources are. */
export async function criListReplySizes(
  endpoint: string,
  repoRoot: string,
): Promise<Record<(typeof LISTS)[number], ListReplySize>> {
  // The codec is cri-client's internal module (not an entry point): loaded from its source.
  const { messageCodec } = (await import(join(repoRoot, 'packages/cri-client/src/codec.ts'))) as Codec;
  const client = await createCriClient({ endpoint });
  try {
    const calls: Record<(typeof LISTS)[number], () => Promise<object>> = {
      ListPodSandbox: () => client.listPodSandbox({}),
      ListContainers: () => client.listContainers({}),
      ListPodSandboxStats: () => client.listPodSandboxStats({}),
      ListContainerStats: () => client.listContainerStats({}),
    };
    const sizes = {} as Record<(typeof LISTS)[number], ListReplySize>;
    for (const rpc of LISTS) {
      // containerd 1.6 on cgroup v1 refuses ListPodSandboxStats for a sandbox without a cgroup
      // path (the kubelet's summary then falls back to the container stats): say so, go on.
      const reply = await calls[rpc]().catch((error: unknown) => ({ error: String(error) }));
      if ('error' in reply) {
        sizes[rpc] = { error: String(reply.error).slice(0, 200) };
        continue;
      }
      const items = Object.values(reply).find(Array.isArray) as unknown[] | undefined;
      sizes[rpc] = {
        items: items?.length ?? 0,
        bytes: messageCodec(`${rpc}Response`).encode(reply as never).length,
      };
    }
    return sizes;
  } finally {
    client.close();
  }
}
