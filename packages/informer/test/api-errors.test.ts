import { describe, expect, it } from 'vitest';
import {
  ApiRequestError,
  apiReason,
  apiStatusCode,
  errorMessage,
  isAlreadyExists,
  isConflict,
  isNotFound,
} from '../src/errors/index';

const status = (code: number, reason: string) =>
  new ApiRequestError(code, reason, reason, JSON.stringify({ kind: 'Status', code, reason }));

describe('API error predicates', () => {
  it('tell AlreadyExists from Conflict on a 409, and NotFound on a 404', () => {
    const exists = status(409, 'AlreadyExists');
    const conflict = status(409, 'Conflict');
    const missing = status(404, 'NotFound');
    expect([isAlreadyExists(exists), isConflict(exists), isNotFound(exists)]).toEqual([true, false, false]);
    expect([isAlreadyExists(conflict), isConflict(conflict), isNotFound(conflict)]).toEqual([
      false,
      true,
      false,
    ]);
    expect([isAlreadyExists(missing), isConflict(missing), isNotFound(missing)]).toEqual([
      false,
      false,
      true,
    ]);
  });

  it("read client-node's ApiException shape (code plus a body that may be an object)", () => {
    const e = Object.assign(new Error('HTTP-Code: 409'), { code: 409, body: { reason: 'AlreadyExists' } });
    expect(apiStatusCode(e)).toBe(409);
    expect(apiReason(e)).toBe('AlreadyExists');
    expect(isAlreadyExists(e)).toBe(true);
  });

  // Without a reason to tell them apart, both predicates accept it, so a create's caller (AlreadyExists)
  // and an update's caller (Conflict) each take their usual path.
  it('a 409 without a readable Status body matches both AlreadyExists and Conflict', () => {
    const e = new ApiRequestError(409, 'Conflict', 'x', 'not json');
    expect(apiReason(e)).toBeUndefined();
    expect(isAlreadyExists(e)).toBe(true);
    expect(isConflict(e)).toBe(true);
    expect(isNotFound(e)).toBe(false);
  });

  it('network errors have no status and match nothing', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(apiStatusCode(e)).toBeUndefined();
    expect([isAlreadyExists(e), isConflict(e), isNotFound(e)]).toEqual([false, false, false]);
    expect(errorMessage(e)).toBe('connect ECONNREFUSED');
    expect(errorMessage(status(404, 'NotFound'))).toBe('HTTP 404 NotFound');
    expect(errorMessage('plain')).toBe('plain');
  });
});
