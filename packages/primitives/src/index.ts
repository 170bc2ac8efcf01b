export { Backoff, type BackoffOptions } from './backoff';
export { base32 } from './base32';
export { type Clock, FakeClock, systemClock } from './clock';
export {
  CommandFailedError,
  type CommandOutput,
  type CommandRunner,
  InputAbortedError,
  isStreamedInput,
  localRunner,
  netnsRunner,
  type RunCommandOptions,
  runChecked,
  runCommand,
  type StreamedInput,
} from './command';
export { CommandNotFoundError, debianPackageOf, isCommandNotFoundError } from './command-not-found';
export { formatDuration, parseDuration } from './duration';
export {
  CodedError,
  describeValue,
  errorPredicate,
  FieldError,
  type FieldErrorClass,
  InvalidDurationError,
  InvalidOptionError,
  InvalidQuantityError,
  isCodedError,
  isFieldError,
  isInvalidDurationError,
  isInvalidOptionError,
  isInvalidQuantityError,
  withCode,
} from './errors';
export { type KeepTrying, type KeepTryingOptions, keepTrying } from './keep-trying';
export {
  float32Fraction,
  formatBinary,
  formatCount,
  formatMilliCpu,
  milliValue,
  parseQuantity,
  percentageOf,
} from './quantity';
export { goListenError, goPathError, systemReason } from './system-error';
export { valueAtPath } from './value-at-path';
export {
  appVersion,
  goArch,
  KUBERNETES_VERSION,
  packageVersion,
  rawVersionText,
  type VersionRuntime,
  versionText,
} from './version';
export { type VolumeSourceKey, volumeSourceKeys } from './volume-sources';
export type { Wire } from './wire';
