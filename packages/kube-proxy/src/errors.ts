import { CodedError, describeValue, errorPredicate } from '@nodeagent/primitives';

/** Base class: every error this package throws carries a stable machine-readable `code`. */
export class KubeProxyError extends CodedError {}

/** A configuration or object field holds a value we cannot accept. */
export class InvalidFieldError extends KubeProxyError {
  readonly field: string;
  readonly value: unknown;
  readonly reason: string;
  constructor(field: string, value: unknown, reason: string) {
    super('INVALID_FIELD', `${field}: invalid value ${describeValue(value)}: ${reason}`);
    this.field = field;
    this.value = value;
    this.reason = reason;
  }
}

/** Several fields were invalid at once; validation reports them all rather than the first. */
export class InvalidConfigurationError extends KubeProxyError {
  readonly errors: readonly InvalidFieldError[];
  constructor(errors: readonly InvalidFieldError[]) {
    super('INVALID_CONFIGURATION', errors.map((e) => e.message).join('; '));
    this.errors = errors;
  }
}

/** Whether `e` is an InvalidFieldError, also one from the package's other build (ESM/CJS), where `instanceof` fails. */
export const isInvalidFieldError = errorPredicate(InvalidFieldError);
/** Whether `e` is an InvalidConfigurationError, also one thrown by the package's other build (ESM/CJS). */
export const isInvalidConfigurationError = errorPredicate(InvalidConfigurationError);
