import { FieldError } from '@nodeagent/primitives';
import { goJson } from '@nodeagent/primitives/go-text';
import type protobuf from 'protobufjs';
import { GO_POINTER_FIELDS } from './go-pointer-fields';
import { k8sProtobufType } from './k8s-proto-schema';
import type { ProtobufWriter } from './protobuf-writer';

/*
 * Stored JSON objects → the protobuf bytes upstream's Go marshallers write for them. The field
 * names, numbers and types come from the protobufjs schema (k8s-proto-schema.ts); what protobufjs
 * cannot express is Go's, handled here:
 * - a non-pointer singular field is written even when the JSON leaves it out, as its Go zero
 *   value ("" / 0 / false, or an empty-but-present message whose own non-pointer fields are
 *   written too); a pointer field (go-pointer-fields.ts) only when set. protobufjs writes exactly
 *   the properties present, so it has no notion of either.
 * - metav1.Time is {seconds(1), nanos(2) = 0} from its RFC 3339 text, and a zero (absent) Time
 *   an empty message; IntOrString is {type(1), intVal(2), strVal(3)} from a JSON number or
 *   string; FieldsV1 is {Raw(1) = the JSON bytes of the fieldsV1 object}.
 * - map entries in key order (Go sorts the keys; protobufjs keeps the object's order).
 * The bytes are written by ProtobufWriter, compiled per message type once ("plans"), since this
 * runs for every stored object a watch or list sends.
 */

/** A stored object that cannot be written as its protobuf message (a wrongly typed field). */
export class ProtobufEncodingError extends FieldError {
  constructor(field: string, value: unknown, reason: string) {
    super('PROTOBUF_ENCODING', field, value, reason);
  }
}

type FieldKind =
  | 'string'
  | 'int'
  | 'bool'
  | 'bytes'
  | 'message'
  | 'map'
  | 'time'
  | 'intOrString'
  | 'fieldsV1';

interface FieldPlan {
  /** The JSON (and protobuf) field name. */
  name: string;
  /** `Message.field`, for errors. */
  where: string;
  /** The field's key (number and wire type), as varint bytes. */
  tag: Uint8Array;
  /** The key when it is one byte (fields 1-15), else -1: written with byte(), the common case. */
  tag1: number;
  kind: FieldKind;
  repeated: boolean;
  /** Written even when absent (a non-pointer Go field). */
  always: boolean;
  /** The nested message's plan (kind 'message'). */
  message?: MessagePlan;
}

interface MessagePlan {
  fields: FieldPlan[];
  /**
   * The object's field values in `fields` order. Generated code (`o["name"]` per field), for
   * speed: one generic `obj[f.name]` loop reads every message type's every field at one site,
   * which V8 can only serve by its slow megamorphic path; a load per field and type stays fast.
   */
  values: (obj: Record<string, unknown>) => unknown[];
}

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const SPECIAL_KINDS: Readonly<Record<string, FieldKind>> = {
  [`${META}.Time`]: 'time',
  [`${META}.FieldsV1`]: 'fieldsV1',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intOrString',
};

function keyBytes(id: number, wireType: number): Uint8Array {
  const out: number[] = [];
  let v = (id << 3) | wireType;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

const plans = new Map<string, MessagePlan>();

/** The compiled plan of one message type (fields in number order, the order Go writes them). */
function planFor(type: protobuf.Type): MessagePlan {
  const fullName = type.fullName.replace(/^\./, '');
  let plan = plans.get(fullName);
  if (plan) return plan;
  plan = { fields: [], values: () => [] };
  plans.set(fullName, plan);
  const pointers = GO_POINTER_FIELDS[fullName];
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    field.resolve();
    const resolved = field.resolvedType;
    const nested = resolved && 'fieldsArray' in resolved ? (resolved as protobuf.Type) : undefined;
    const special = nested ? SPECIAL_KINDS[nested.fullName.replace(/^\./, '')] : undefined;
    const kind: FieldKind = (field as unknown as protobuf.MapField).map
      ? 'map'
      : (special ?? (nested ? 'message' : scalarKind(field.type)));
    const varint = kind === 'int' || kind === 'bool';
    plan.fields.push({
      name: field.name,
      where: `${type.name}.${field.name}`,
      tag: keyBytes(field.id, varint ? 0 : 2),
      tag1: field.id < 16 ? (field.id << 3) | (varint ? 0 : 2) : -1,
      kind,
      repeated: field.repeated,
      always: !pointers?.has(field.name),
      ...(kind === 'message' && nested ? { message: planFor(nested) } : {}),
    });
  }
  const loads = plan.fields.map((f) => `o[${JSON.stringify(f.name)}]`).join(', ');
  plan.values = new Function('o', `return [${loads}];`) as MessagePlan['values'];
  return plan;
}

function scalarKind(type: string): FieldKind {
  if (type === 'string') return 'string';
  if (type === 'bool') return 'bool';
  if (type === 'bytes') return 'bytes';
  return 'int';
}

/** Writes `obj`'s fields (the message's content, without its own key and length). */
function writeFields(w: ProtobufWriter, plan: MessagePlan, obj: Record<string, unknown>): void {
  const values = plan.values(obj);
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as FieldPlan;
    const v = values[i];
    if (f.repeated) {
      if (Array.isArray(v)) for (const e of v) if (e !== null && e !== undefined) writeValue(w, f, e);
    } else if (f.kind === 'map') {
      if (v !== null && typeof v === 'object') writeMap(w, f, v as Record<string, unknown>);
    } else if (v !== undefined && v !== null) writeValue(w, f, v);
    else if (f.always) writeZero(w, f);
  }
}

/** A non-pointer field the JSON leaves out: its Go zero value. */
function writeZero(w: ProtobufWriter, f: FieldPlan): void {
  writeKey(w, f);
  if (f.kind === 'message' || f.kind === 'intOrString') {
    const at = w.beginMessage();
    if (f.message) writeFields(w, f.message, {});
    else writeIntOrString(w, 0);
    w.endMessage(at);
  } else w.byte(0); // "" and empty messages: length 0; 0 and false: varint 0.
}

function writeKey(w: ProtobufWriter, f: FieldPlan): void {
  if (f.tag1 >= 0) w.byte(f.tag1);
  else w.raw(f.tag);
}

function writeValue(w: ProtobufWriter, f: FieldPlan, v: unknown): void {
  writeKey(w, f);
  switch (f.kind) {
    case 'string':
      if (typeof v !== 'string') throw new ProtobufEncodingError(f.where, v, 'must be a string');
      w.string(v);
      return;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw new ProtobufEncodingError(f.where, v, 'must be an integer');
      w.varint(v);
      return;
    case 'bool':
      w.byte(v === true ? 1 : 0);
      return;
    case 'bytes':
      if (typeof v !== 'string') throw new ProtobufEncodingError(f.where, v, 'must be base64 text');
      w.bytes(Buffer.from(v, 'base64'));
      return;
    default:
      writeNested(w, f, v);
  }
}

/** A length-delimited nested value: a message, Time, IntOrString or FieldsV1. */
function writeNested(w: ProtobufWriter, f: FieldPlan, v: unknown): void {
  const at = w.beginMessage();
  if (f.kind === 'message') {
    if (typeof v !== 'object' || Array.isArray(v))
      throw new ProtobufEncodingError(f.where, v, 'must be an object');
    writeFields(w, f.message as MessagePlan, v as Record<string, unknown>);
  } else if (f.kind === 'time') writeTime(w, f, v);
  else if (f.kind === 'intOrString') {
    if (typeof v !== 'number' && typeof v !== 'string')
      throw new ProtobufEncodingError(f.where, v, 'must be an integer or a string');
    writeIntOrString(w, v);
  } else {
    w.byte(0x0a); // FieldsV1.Raw: the JSON text's UTF-8 bytes, written as a string is
    w.string(goJson(v));
  }
  w.endMessage(at);
}

function writeMap(w: ProtobufWriter, f: FieldPlan, m: Record<string, unknown>): void {
  for (const key of Object.keys(m).sort(goStringOrder)) {
    const value = m[key];
    if (typeof value !== 'string')
      throw new ProtobufEncodingError(`${f.where}[${key}]`, value, 'must be a string');
    w.raw(f.tag);
    const at = w.beginMessage();
    w.byte(0x0a);
    w.string(key);
    w.byte(0x12);
    w.string(value);
    w.endMessage(at);
  }
}

/** Go's sort.Strings order: by bytes (UTF-16 code units agree with it outside surrogate pairs). */
function goStringOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** intstr.IntOrString: all three fields, always (none is a pointer). */
function writeIntOrString(w: ProtobufWriter, v: number | string): void {
  const isString = typeof v === 'string';
  w.byte(0x08);
  w.byte(isString ? 1 : 0);
  w.byte(0x10);
  w.varint(isString ? 0 : v);
  w.byte(0x1a);
  w.string(isString ? v : '');
}

let lastTimeText = '';
let lastTimeSeconds = 0;

/** metav1.Time: whole seconds (protobuf carries no more than JSON does), nanos always 0. */
function writeTime(w: ProtobufWriter, f: FieldPlan, v: unknown): void {
  if (v !== lastTimeText) {
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) throw new ProtobufEncodingError(f.where, v, 'must be an RFC 3339 time');
    lastTimeText = v as string;
    lastTimeSeconds = Math.floor(ms / 1000);
  }
  w.byte(0x08);
  w.varint(lastTimeSeconds);
  w.byte(0x10);
  w.byte(0);
}

/** Writes one message of type `fullName` (its content only) from its JSON object. */
export function writeMessage(w: ProtobufWriter, fullName: string, obj: Record<string, unknown>): void {
  writeFields(w, planFor(k8sProtobufType(fullName)), obj);
}
