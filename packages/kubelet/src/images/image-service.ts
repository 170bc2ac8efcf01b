import { type CriClient, isNotFound } from '@nodeagent/cri-client';

/** An image the runtime holds, as image GC needs it. */
export interface RuntimeImage {
  id: string;
  repoTags: string[];
  sizeBytes: number;
  /** The runtime asks that this image is never removed (the sandbox image). */
  pinned: boolean;
}

/** The image half of the CRI that image GC uses; injected so tests run on a fake. */
export interface ImageService {
  /** Every image the runtime holds (CRI ListImages). */
  listImages(): Promise<RuntimeImage[]>;
  /** Removes the image; an image already gone is not an error. */
  removeImage(id: string): Promise<void>;
}

/**
 * The runtime's sandbox (pause) image, from CRI Status verbose info (containerd reports its
 * config there as JSON); undefined when the runtime does not say.
 */
async function runtimeSandboxImage(client: CriClient): Promise<string | undefined> {
  try {
    const { info } = await client.status({ verbose: true });
    const config = JSON.parse(info.config ?? '{}') as { sandboxImage?: unknown };
    return typeof config.sandboxImage === 'string' && config.sandboxImage !== ''
      ? config.sandboxImage
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * ImageService over a CRI runtime.v1 client. Runtimes from before CRI's `pinned` field
 * (containerd 1.6) do not pin their sandbox image, so it is treated as pinned here, the way
 * upstream's image GC once always counted the pod infra image as in use.
 */
export function criImageService(client: CriClient): ImageService {
  let sandboxImage: Promise<string | undefined> | undefined;
  return {
    async listImages() {
      sandboxImage ??= runtimeSandboxImage(client);
      const [response, pause] = await Promise.all([client.listImages({}), sandboxImage]);
      return response.images.map((image) => ({
        id: image.id,
        repoTags: image.repoTags,
        sizeBytes: Number(image.size),
        pinned:
          image.pinned ||
          (pause !== undefined && (image.repoTags.includes(pause) || image.repoDigests.includes(pause))),
      }));
    },
    async removeImage(id) {
      try {
        await client.removeImage({ image: { image: id } });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}
