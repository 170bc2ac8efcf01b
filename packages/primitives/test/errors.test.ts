import { describe, expect, it } from 'vitest';
import {
  CodedError,
  describeValue,
  errorPredicate,
  FieldError,
  InvalidDurationError,
  isCodedError,
  isFieldError,
  isInvalidDurationError,
  withCode,
} from '../src/index';

class WidgetError extends FieldError {
  constructor(field: string, value: unknown) {
    super('INVALID_WIDGET', field, value, 'must be a widget');
  }
}

describe('error base', () => {
  it('carries code, field, value, reason and the subclass name', () => {
    const e = new WidgetError('spec.widget', { size: 3 });
    expect(e).toBeInstanceOf(CodedError);
    expect(e.name).toBe('WidgetError');
    expect(e.code).toBe('INVALID_WIDGET');
    expect(e.field).toBe('spec.widget');
    expect(e.value).toEqual({ size: 3 });
    expect(e.reason).toBe('must be a widget');
    expect(e.message).toBe('spec.widget: must be a widget (got {"size":3})');
  });

  it('keeps a package-specific message when given one', () => {
    expect(new FieldError('X', 'f', 1, 'r', 'custom').message).toBe('custom');
  });

  it('predicates check the class and, optionally, the code', () => {
    const e = new CodedError('BOOM', 'boom', { cause: 'root' });
    expect(e.cause).toBe('root');
    expect(isCodedError(e)).toBe(true);
    expect(isCodedError(e, 'BOOM')).toBe(true);
    expect(isCodedError(e, 'OTHER')).toBe(false);
    expect(isCodedError(new Error('plain'))).toBe(false);
    expect(isFieldError(e)).toBe(false);
    expect(isFieldError(new WidgetError('f', 1))).toBe(true);
  });

  it('describes any value without throwing', () => {
    expect(describeValue('a')).toBe('"a"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(10n)).toBe('"10"');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
    expect(describeValue('x'.repeat(300)).length).toBe(302);
    expect(describeValue(['x'.repeat(300)])).toHaveLength(201);
  });
});

describe('withCode', () => {
  class PackageError extends FieldError {}
  class InvalidThingError extends withCode(PackageError, 'INVALID_THING') {}

  it('fixes the code, keeps the base class and the subclass name', () => {
    const e = new InvalidThingError('spec.thing', 3, 'must be a thing');
    expect(e).toBeInstanceOf(PackageError);
    expect(e).toBeInstanceOf(FieldError);
    expect(e.name).toBe('InvalidThingError');
    expect(e.code).toBe('INVALID_THING');
    expect(e.message).toBe('spec.thing: must be a thing (got 3)');
  });
});

describe('errorPredicate', () => {
  class PackageError extends FieldError {}
  class InvalidThingError extends withCode(PackageError, 'INVALID_THING') {}
  class OtherThingError extends withCode(PackageError, 'INVALID_THING') {}
  class StricterThingError extends InvalidThingError {}
  const isInvalidThingError = errorPredicate(InvalidThingError);

  it('matches the class and its subclasses, not another class with the same code', () => {
    expect(isInvalidThingError(new InvalidThingError('f', 1, 'r'))).toBe(true);
    expect(isInvalidThingError(new StricterThingError('f', 1, 'r'))).toBe(true);
    expect(isInvalidThingError(new OtherThingError('f', 1, 'r'))).toBe(false);
    expect(isInvalidThingError(Object.assign(new Error('x'), { code: 'INVALID_THING' }))).toBe(false);
    expect(isInvalidThingError(undefined)).toBe(false);
  });

  it('narrows to the class, so its fields read without a cast', () => {
    const e: unknown = new InvalidDurationError('timeout', '5 parsecs');
    if (!isInvalidDurationError(e)) throw new Error('expected an InvalidDurationError');
    expect([e.code, e.field, e.value]).toEqual(['INVALID_DURATION', 'timeout', '5 parsecs']);
  });
});

/** A second copy of errors.ts (vite loads a module again under another query), as a CJS build beside the ESM one. */
const OTHER_BUILD: string = '../src/errors.ts?other-build';

describe('error guards across two builds (an app mixing import and require())', () => {
  it('recognise an error from the other copy of the classes', async () => {
    const other = (await import(OTHER_BUILD)) as typeof import('../src/errors');
    expect(other.CodedError).not.toBe(CodedError);
    const foreign = new other.InvalidDurationError('timeout', 'soon');
    expect(foreign).not.toBeInstanceOf(InvalidDurationError);
    expect(isInvalidDurationError(foreign)).toBe(true);
    expect(isFieldError(foreign)).toBe(true);
    expect(isCodedError(foreign, 'INVALID_DURATION')).toBe(true);
    expect(other.isInvalidDurationError(new InvalidDurationError('timeout', 'soon'))).toBe(true);
  });

  it('still tell classes apart by their names up to CodedError', async () => {
    const other = (await import(OTHER_BUILD)) as typeof import('../src/errors');
    // Same class name, different parents: kubelet's and node-status's InvalidConfigError.
    class KubeletError extends CodedError {}
    class InvalidConfigError extends KubeletError {}
    class NodeStatusError extends other.CodedError {}
    const isKubeletConfigError = errorPredicate(
      (() => {
        class InvalidConfigError extends KubeletError {}
        return InvalidConfigError;
      })(),
    );
    expect(isKubeletConfigError(new InvalidConfigError('INVALID_CONFIG', 'x'))).toBe(true);
    const nodeStatus = new (class InvalidConfigError extends NodeStatusError {})('INVALID_CONFIG', 'x');
    expect(isKubeletConfigError(nodeStatus)).toBe(false);
    expect(errorPredicate(InvalidDurationError)(new other.InvalidQuantityError('q', 'x'))).toBe(false);
    expect(isCodedError({ code: 'INVALID_DURATION', message: 'look-alike' })).toBe(false);
  });
});
