import { KubeletError } from '../errors';

/**
 * The CPU or memory manager cannot start or run as configured (upstream's NewManager and Start
 * errors): the message is upstream's text, which the binary prints as the reason it exits.
 */
export class ResourceManagerError extends KubeletError {
  constructor(field: string, value: unknown, message: string) {
    super('RESOURCE_MANAGER', field, value, message, message);
  }
}
