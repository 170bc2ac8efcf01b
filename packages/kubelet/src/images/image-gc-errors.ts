import { KubeletError } from '../errors';

/** Image GC could not free what the thresholds asked for, or could not measure the filesystem. */
export class ImageGCError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('IMAGE_GC_FAILED', field, value, reason);
  }
}
