/**
 * The base of every error the nodeagent packages throw: a stable machine-readable `code`, so
 * callers branch on it instead of parsing messages. The subclass's name becomes `name`.
 */
export class CodedError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An error about one value: where it sits (`field`), what it was and which rule it broke. */
export class FieldError extends CodedError {
  readonly field: string;
  readonly value: unknown;
  /** The rule that was broken, without field and value. */
  readonly reason: string;

  /** The message defaults to `<field>: <reason> (got <value>)`; packages with an older wording pass theirs. */
  constructor(code: string, field: string, value: unknown, reason: string, message?: string) {
    super(code, message ?? `${field}: ${reason} (got ${describeValue(value)})`);
    this.field = field;
    this.value = value;
    this.reason = reason;
  }
}

/** The constructor every FieldError subclass shares: (code, field, value, reason, message?). */
export type FieldErrorClass<T extends FieldError> = new (
  code: string,
  field: string,
  value: unknown,
  reason: string,
  message?: string,
) => T;

/**
 * A base for an error class with one fixed code: `class InvalidProbeError extends
 * withCode(ProbeError, 'INVALID_PROBE') {}` takes (field, value, reason), stays an instance of
 * ProbeError and is named after itself.
 */
export function withCode<T extends FieldError>(
  Base: FieldErrorClass<T>,
  code: string,
): new (
  field: string,
  value: unknown,
  reason: string,
) => T {
  const Coded = class extends (Base as FieldErrorClass<FieldError>) {
    constructor(field: string, value: unknown, reason: string) {
      super(code, field, value, reason);
    }
  };
  return Coded as unknown as new (
    field: string,
    value: unknown,
    reason: string,
  ) => T;
}

/** A duration that is not Go's time.Duration syntax. */
export class InvalidDurationError extends FieldError {
  constructor(field: string, value: unknown, reason = 'not a duration such as "10s" or "1m30s"') {
    super('INVALID_DURATION', field, value, reason);
  }
}

/** A resource quantity that does not parse, or breaks a caller's rule (`"12Qi"`, `"-1"`). */
export class InvalidQuantityError extends FieldError {
  constructor(field: string, value: unknown, reason = 'not a resource quantity such as "100m" or "1Gi"') {
    super('INVALID_QUANTITY', field, value, reason);
  }
}

/** An option that cannot work (a non-positive delay, a cap below the start, an unknown index...). */
export class InvalidOptionError extends FieldError {
  constructor(option: string, value: unknown, reason: string) {
    super('INVALID_OPTION', option, value, reason, `invalid ${option} ${describeValue(value)}: ${reason}`);
  }

  /** The option's name (the same as `field`). */
  get option(): string {
    return this.field;
  }
}

/** A value as JSON (strings quoted, bigints as digits), cut at 200 characters; never throws. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (text === undefined) return String(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}

/** Whether `e` is a CodedError, optionally with the given code. */
export function isCodedError(e: unknown, code?: string): e is CodedError {
  return e instanceof CodedError && (code === undefined || e.code === code);
}

/**
 * The type guard behind every package's `isXxxError`, so each is one line instead of a
 * hand-written body: `export const isInvalidProbeError = errorPredicate(InvalidProbeError)`.
 * It tests the class, not the code: two packages may share a code (`INVALID_CONFIG` is both
 * kubelet's and node-status's), and a subclass (kubelet's SecurityContextError is a
 * CreateContainerConfigError) matches its parent's predicate.
 */
export function errorPredicate<T extends CodedError>(
  Class: abstract new (...args: never[]) => T,
): (e: unknown) => e is T {
  return (e: unknown): e is T => e instanceof Class;
}

/** Whether `e` is a FieldError (it names the field and value it is about). */
export function isFieldError(e: unknown): e is FieldError {
  return e instanceof FieldError;
}

export const isInvalidDurationError = errorPredicate(InvalidDurationError);
export const isInvalidQuantityError = errorPredicate(InvalidQuantityError);
export const isInvalidOptionError = errorPredicate(InvalidOptionError);
