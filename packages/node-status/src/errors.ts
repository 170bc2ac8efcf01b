import { errorPredicate, FieldError, withCode } from '@nodeagent/primitives';

/** Base class of this package's errors: a stable `code` plus the offending field and value. */
export class NodeStatusError extends FieldError {}

/** A configuration value the reporter cannot use. */
export class InvalidConfigError extends withCode(NodeStatusError, 'INVALID_CONFIG') {}

/** Reading machine facts (/proc, cgroups, statfs) failed. */
export class MachineInfoError extends withCode(NodeStatusError, 'MACHINE_INFO') {}

/** Whether an error is an InvalidConfigError, from either the ESM or the CJS build. */
export const isInvalidConfigError = errorPredicate(InvalidConfigError);
/** Whether an error is a MachineInfoError, from either the ESM or the CJS build. */
export const isMachineInfoError = errorPredicate(MachineInfoError);
