import { pushTo, setNumber, setString } from './fields';
import { readListMeta } from './list-meta';
import type { ProtoReader } from './reader';

/**
 * A meta/v1 Status (an error response's body, a watch ERROR event's object) as JSON:
 * `metadata` always (a non-pointer struct), the strings and `code` `omitempty`, `details` when
 * written. `kind`/`apiVersion` come from the envelope.
 */
export function readStatus(r: ProtoReader, end: number): Record<string, unknown> {
  const s: Record<string, unknown> = { metadata: {} };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) s.metadata = readListMeta(r);
    else if (tag === 18) setString(s, 'status', r.string());
    else if (tag === 26) setString(s, 'message', r.string());
    else if (tag === 34) setString(s, 'reason', r.string());
    else if (tag === 42) s.details = readStatusDetails(r);
    else if (tag === 48) setNumber(s, 'code', r.int32());
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'Status');
  return s;
}

function readStatusDetails(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const d: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) setString(d, 'name', r.string());
    else if (tag === 18) setString(d, 'group', r.string());
    else if (tag === 26) setString(d, 'kind', r.string());
    else if (tag === 34) pushTo(d, 'causes', readStatusCause(r));
    else if (tag === 40) setNumber(d, 'retryAfterSeconds', r.int32());
    else if (tag === 50) setString(d, 'uid', r.string());
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'StatusDetails');
  return d;
}

/** StatusCause's Go field `Type` is `reason` in both wire forms. */
function readStatusCause(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const c: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) setString(c, 'reason', r.string());
    else if (tag === 18) setString(c, 'message', r.string());
    else if (tag === 26) setString(c, 'field', r.string());
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'StatusCause');
  return c;
}
