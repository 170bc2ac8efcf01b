import { CreateContainerConfigError } from '../errors';

/**
 * A security setting the kubelet refuses while building a CRI request. The message is upstream's
 * text exactly (it becomes the container's or sandbox's status message); field and value name
 * what was refused, as for every KubeletError.
 */
export class SecurityContextError extends CreateContainerConfigError {
  constructor(field: string, value: unknown, message: string) {
    super(field, value, message);
    this.message = message;
  }
}
