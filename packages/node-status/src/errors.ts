import { FieldError } from '@nodeagent/primitives';

/** Base class of this package's errors: a stable `code` plus the offending field and value. */
export class NodeStatusError extends FieldError {}

/** A configuration value the reporter cannot use. */
export class InvalidConfigError extends NodeStatusError {
  constructor(field: string, value: unknown, detail: string) {
    super('InvalidConfig', field, value, detail);
  }
}

/** Reading machine facts (/proc, cgroups, statfs) failed. */
export class MachineInfoError extends NodeStatusError {
  constructor(field: string, value: unknown, detail: string) {
    super('MachineInfo', field, value, detail);
  }
}
