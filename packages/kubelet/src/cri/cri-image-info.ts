// What the kubelet asks CRI ImageStatus about a present image: its id, configured user and size.

import type { CriClient } from '@nodeagent/cri-client';
import type { Image as CriImage } from '@nodeagent/cri-client/types';

/** A present image's configured user (CRI ImageStatus uid/username). */
export interface ImageUser {
  uid?: number;
  username?: string;
}

/**
 * How many image ids' answers are kept: images turn over for the kubelet's life (image GC, a new
 * digest per build), and a forgotten id only costs one more ImageStatus.
 */
const MAX_KNOWN_IMAGES = 256;

/**
 * PodRuntime's image questions over CRI ImageStatus. An image id is the digest of the image
 * config, which holds the user and fixes the size, so the answers per id never change and are
 * kept: the image-user check before CreateContainer costs no second ImageStatus after the
 * presence check made one.
 */
export class CriImageInfo {
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  /** The configured user of each image id seen in an ImageStatus answer, latest answer last. */
  private readonly users = new Map<string, ImageUser>();
  /** Each image id's size from ImageStatus, for the Pulled event; the same ids as users. */
  private readonly sizes = new Map<string, number>();

  constructor(private readonly client: CriClient) {}

  /** The id of a present image (CRI ImageStatus), or undefined when the runtime does not have it. */
  imageRef(image: string): Promise<string | undefined> {
    // A burst of pods on one image asks at once: they share the call in flight (never an
    // older answer, so a removed or re-pulled image is seen by the next caller).
    const inFlight = this.inFlight.get(image);
    if (inFlight) return inFlight;
    const call = this.client
      .imageStatus({ image: { image } })
      .then((response) => this.remember(response.image))
      .finally(() => this.inFlight.delete(image));
    this.inFlight.set(image, call);
    return call;
  }

  /** A present image's size in bytes; undefined when the runtime does not have it. */
  async imageSize(image: string): Promise<number | undefined> {
    const known = this.sizes.get(image);
    if (known !== undefined) return known;
    const id = this.remember((await this.client.imageStatus({ image: { image } })).image);
    return id === undefined ? undefined : this.sizes.get(id);
  }

  /** The user a present image's config runs as; undefined when the runtime does not have it. */
  async imageUser(image: string): Promise<ImageUser | undefined> {
    const known = this.users.get(image);
    if (known) return known;
    const id = this.remember((await this.client.imageStatus({ image: { image } })).image);
    return id === undefined ? undefined : this.users.get(id);
  }

  /** Keeps an ImageStatus answer's user and size under its id; the id, if it named an image. */
  private remember(image: CriImage | null): string | undefined {
    if (!image?.id) return undefined;
    this.users.delete(image.id);
    this.users.set(image.id, {
      uid: image.uid ? Number(image.uid.value) : undefined,
      username: image.username,
    });
    this.sizes.set(image.id, Number(image.size));
    const oldest = this.users.keys().next().value;
    if (this.users.size > MAX_KNOWN_IMAGES && oldest !== undefined) {
      this.users.delete(oldest);
      this.sizes.delete(oldest);
    }
    return image.id;
  }
}
