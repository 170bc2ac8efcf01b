import { FieldError } from '@nodeagent/primitives';

/** A namespace or interface name that `ip` would reject or that could escape /run/netns. */
export class InvalidNetnsNameError extends FieldError {
  declare readonly value: string;

  constructor(field: string, value: string, reason: string) {
    super('NETNS_INVALID_NAME', field, value, reason, `${field}: ${JSON.stringify(value)} ${reason}`);
  }
}
