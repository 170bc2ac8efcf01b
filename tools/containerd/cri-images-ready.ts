import { createCriClient } from '../../packages/cri-client/src/cri-client';

/**
 * Waits until containerd's CRI plugin reports every image in `refs`. `ctr images import` returns
 * once the image is in containerd's metadata store, but the CRI plugin learns of it from the
 * image-create event, asynchronously: on a loaded machine an ImageStatus right after the import
 * can still answer "not present". Returns the refs still missing at the deadline (empty when all
 * are there), for the caller to name in its error.
 */
export async function waitForCriImages(
  endpoint: string,
  refs: readonly string[],
  timeoutMs: number,
): Promise<string[]> {
  const client = await createCriClient({ endpoint });
  try {
    const deadline = Date.now() + timeoutMs;
    let missing = [...refs];
    // At least one look, however short the timeout.
    for (;;) {
      const still: string[] = [];
      for (const ref of missing) {
        const { image } = await client.imageStatus({ image: { image: ref } });
        if (!image) still.push(ref);
      }
      missing = still;
      if (missing.length === 0 || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return missing;
  } finally {
    client.close();
  }
}
