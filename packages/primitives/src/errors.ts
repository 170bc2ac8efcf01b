/**
 * Marks every CodedError from any copy of this package. An app that mixes `import` and
 * `require()` loads both the ESM and the CJS build, so two CodedError classes exist and
 * `instanceof` fails across them; `Symbol.for` is one symbol process-wide.
 */
const CODED_ERROR_BRAND = Symbol.for('@nodeagent/primitives.CodedError');

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
Object.defineProperty(CodedError.prototype, CODED_ERROR_BRAND, { value: true });

/** Whether `e` is a CodedError of any build of this package (its prototype carries the brand). */
function isBranded(e: unknown): e is CodedError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { [CODED_ERROR_BRAND]?: unknown })[CODED_ERROR_BRAND] === true
  );
}

/**
 * The class names from `proto`'s class up to CodedError (`['IpvsNotFoundError',
 * 'IpvsKernelError', 'IpvsError', 'CodedError']`): the same in every build of a package.
 */
function lineage(proto: object | null): string[] {
  const names: string[] = [];
  for (
    let p = proto;
    p !== null && p !== Error.prototype && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    const ctor = (p as { constructor?: unknown }).constructor;
    names.push(typeof ctor === 'function' ? ctor.name : '');
  }
  return names;
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

/**
 * Whether `e` is a CodedError, optionally with the given code; true for one thrown by the other
 * build (ESM or CJS) of any nodeagent package too.
 */
export function isCodedError(e: unknown, code?: string): e is CodedError {
  return (e instanceof CodedError || isBranded(e)) && (code === undefined || e.code === code);
}

/**
 * The type guard behind every package's `isXxxError`, so each is one line instead of a
 * hand-written body: `export const isInvalidProbeError = errorPredicate(InvalidProbeError)`.
 * It tests the class, not the code: two packages may share a code (`INVALID_CONFIG` is both
 * kubelet's and node-status's), and a subclass (kubelet's SecurityContextError is a
 * CreateContainerConfigError) matches its parent's predicate. An error from the other build of
 * the package (another copy of the class) matches by its class names from `Class` up to
 * CodedError, which tell kubelet's InvalidConfigError (a KubeletError) from node-status's.
 */
export function errorPredicate<T extends CodedError>(
  Class: abstract new (...args: never[]) => T,
): (e: unknown) => e is T {
  const wanted = lineage(Class.prototype);
  return (e: unknown): e is T => {
    if (e instanceof Class) return true;
    if (!isBranded(e)) return false;
    const names = lineage(Object.getPrototypeOf(e));
    const offset = names.length - wanted.length;
    return offset >= 0 && wanted.every((name, i) => names[offset + i] === name);
  };
}

/** Whether `e` is a FieldError (it names the field and value it is about), from either build. */
export const isFieldError: (e: unknown) => e is FieldError = errorPredicate(FieldError);

/** Whether an error is an InvalidDurationError, from either build. */
export const isInvalidDurationError = errorPredicate(InvalidDurationError);
/** Whether an error is an InvalidQuantityError, from either build. */
export const isInvalidQuantityError = errorPredicate(InvalidQuantityError);
/** Whether an error is an InvalidOptionError, from either build. */
export const isInvalidOptionError = errorPredicate(InvalidOptionError);
