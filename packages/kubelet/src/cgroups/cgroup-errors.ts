import { KubeletError } from '../errors';

/** A cgroup could not be created, configured or removed (the path and the failing file). */
export class CgroupError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('CGROUP', field, value, reason);
  }
}
