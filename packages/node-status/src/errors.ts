import { errorPredicate, FieldError, withCode } from '@nodeagent/primitives';

/** Base class of this package's errors: a stable `code` plus the offending field and value. */
export class NodeStatusError extends FieldError {}

/** A configuration value the reporter cannot use. */
export class InvalidConfigError extends withCode(NodeStatusError, 'INVALID_CONFIG') {}

/** Reading machine facts (/proc, cgroups, statfs) failed. */
export class MachineInfoError extends withCode(NodeStatusError, 'MACHINE_INFO') {}

export const isInvalidConfigError = errorPredicate(InvalidConfigError);
export const isMachineInfoError = errorPredicate(MachineInfoError);
