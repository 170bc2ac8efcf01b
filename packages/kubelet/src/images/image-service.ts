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
  listImages(): Promise<RuntimeImage[]>;
  /** Removes the image; an image already gone is not an error. */
  removeImage(id: string): Promise<void>;
}

/** ImageService over a CRI runtime.v1 client. */
export function criImageService(client: CriClient): ImageService {
  return {
    async listImages() {
      const response = await client.listImages({});
      return response.images.map((image) => ({
        id: image.id,
        repoTags: image.repoTags,
        sizeBytes: Number(image.size),
        pinned: image.pinned,
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
