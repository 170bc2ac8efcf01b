import { ProtobufDecodeError } from './errors';
import { mapAt, pushTo, setString } from './fields';
import type { DecodeFlags } from './omit';
import type { ProtoReader } from './reader';
import { readStringMapEntry } from './string-map';
import { readTime } from './time';

/* Tags are (field number << 3) | wire type: 10 is field 1 length-delimited, 56 field 7 varint. */

/**
 * A meta/v1 ObjectMeta as the API server's JSON has it: every field `omitempty` (absent when
 * empty), `creationTimestamp` also `omitzero` (absent when zero), the pointers
 * (`deletionTimestamp`, `deletionGracePeriodSeconds`) present whenever they were written.
 */
export function readObjectMeta(r: ProtoReader, flags: DecodeFlags): Record<string, unknown> {
  const end = r.end();
  const m: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    switch (tag) {
      case 10:
        setString(m, 'name', r.string());
        break;
      case 18:
        setString(m, 'generateName', r.string());
        break;
      case 26:
        setString(m, 'namespace', r.string());
        break;
      case 34:
        setString(m, 'selfLink', r.string());
        break;
      case 42:
        setString(m, 'uid', r.string());
        break;
      case 50:
        setString(m, 'resourceVersion', r.string());
        break;
      case 56: {
        const generation = r.int64();
        if (generation !== 0) m.generation = generation;
        break;
      }
      case 66: {
        const t = readTime(r);
        if (t !== null) m.creationTimestamp = t;
        break;
      }
      case 74:
        m.deletionTimestamp = readTime(r);
        break;
      case 80:
        m.deletionGracePeriodSeconds = r.int64();
        break;
      case 98:
        if (flags.annotations) r.skip(2);
        else readStringMapEntry(r, mapAt(m, 'annotations'));
        break;
      case 90:
        readStringMapEntry(r, mapAt(m, 'labels'));
        break;
      case 106:
        if (flags.ownerReferences) r.skip(2);
        else pushTo(m, 'ownerReferences', readOwnerReference(r));
        break;
      case 114:
        pushTo(m, 'finalizers', r.string());
        break;
      case 138:
        if (flags.managedFields) r.skip(2);
        else pushTo(m, 'managedFields', readManagedFieldsEntry(r));
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'ObjectMeta');
  return m;
}

/** apiVersion, kind, name and uid are always in the JSON; the two bools only when written. */
function readOwnerReference(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const o: Record<string, unknown> = { apiVersion: '', kind: '', name: '', uid: '' };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 42) o.apiVersion = r.string();
    else if (tag === 10) o.kind = r.string();
    else if (tag === 26) o.name = r.string();
    else if (tag === 34) o.uid = r.string();
    else if (tag === 48) o.controller = r.bool();
    else if (tag === 56) o.blockOwnerDeletion = r.bool();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'OwnerReference');
  return o;
}

function readManagedFieldsEntry(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const e: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) setString(e, 'manager', r.string());
    else if (tag === 18) setString(e, 'operation', r.string());
    else if (tag === 26) setString(e, 'apiVersion', r.string());
    else if (tag === 34) e.time = readTime(r);
    else if (tag === 50) setString(e, 'fieldsType', r.string());
    else if (tag === 58) e.fieldsV1 = readFieldsV1(r);
    else if (tag === 66) setString(e, 'subresource', r.string());
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ManagedFieldsEntry');
  return e;
}

/** FieldsV1 {Raw(1)}: its JSON is the raw bytes themselves, `null` when there are none. */
function readFieldsV1(r: ProtoReader): unknown {
  const end = r.end();
  let raw = '';
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) raw = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'FieldsV1');
  if (raw === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ProtobufDecodeError('FieldsV1', end, `Raw is not JSON: ${raw.slice(0, 60)}`);
  }
}
