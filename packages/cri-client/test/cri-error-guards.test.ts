import { CodedError } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import {
  CriError,
  isCriError,
  isNotFound,
  isUnavailable,
  RuntimeUnreachableError,
  toCriError,
} from '../src/index';

/**
 * A CriError of the package's other build (an app that both imports and requires it loads two
 * copies): a class of the same name over the same branded CodedError, which `instanceof` against
 * this copy's CriError does not recognise. The consumer test checks the real ESM/CJS pair.
 */
class OtherCopyCriError extends CodedError {
  constructor(
    readonly grpcCode: number,
    details: string,
  ) {
    super(grpcCode === 5 ? 'NOT_FOUND' : 'UNKNOWN', details);
  }
}
Object.defineProperty(OtherCopyCriError, 'name', { value: 'CriError' });

describe('CRI error guards', () => {
  it('recognise a CriError of the other build by class name and brand, not instanceof', () => {
    const foreign = new OtherCopyCriError(5, 'ContainerStatus: NOT_FOUND: gone');
    expect(foreign).not.toBeInstanceOf(CriError);
    expect(isCriError(foreign)).toBe(true);
    expect(isNotFound(foreign)).toBe(true);
    expect(isUnavailable(foreign)).toBe(false);
    // toCriError passes it through instead of wrapping it as UNKNOWN.
    expect(toCriError('ContainerStatus', 'unix:///x.sock', foreign)).toBe(foreign);
  });

  it('match this build’s errors and their subclasses, and nothing else', () => {
    expect(isUnavailable(new RuntimeUnreachableError('Version', 'connect ENOENT', 'unix:///x.sock'))).toBe(
      true,
    );
    expect(isCriError(new CriError('Version', 5, 'gone', 'unix:///x.sock'))).toBe(true);
    expect(isCriError(Object.assign(new Error('x'), { grpcCode: 5 }))).toBe(false);
    expect(isNotFound({ code: 'NOT_FOUND', grpcCode: 5 })).toBe(false);
  });
});
