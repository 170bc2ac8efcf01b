import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { DECODE_OPTIONS, messageCodec } from '../src/codec';
import type { MessageTypeName } from '../src/generated/types';
import { runtimeV1Root } from '../src/reflection-root';

const root = runtimeV1Root();

function allTypes(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) out.push(child);
    if (child instanceof protobuf.Namespace) allTypes(child, out);
  }
  return out;
}

const types = allTypes(root.lookup('runtime.v1') as protobuf.Namespace);
const safeKey = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');

function scalar(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64':
      return fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
    case 'uint64':
      return fc.bigInt(0n, 2n ** 64n - 1n);
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 12 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b));
    default:
      throw new Error(`no arbitrary for ${type}`);
  }
}

/** A fully-populated value of `type` in decoded shape (defaults everywhere, null for unset messages). */
function messageArb(type: protobuf.Type, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of type.fieldsArray) {
    const rt = f.resolvedType;
    let one: fc.Arbitrary<unknown>;
    if (rt instanceof protobuf.Enum) one = fc.constantFrom(...Object.values(rt.values));
    else if (rt instanceof protobuf.Type) one = depth > 0 ? messageArb(rt, depth - 1) : fc.constant(null);
    else one = scalar(f.type);
    if (f instanceof protobuf.MapField) fields[f.name] = fc.dictionary(safeKey, one, { maxKeys: 3 });
    else if (f.repeated)
      fields[f.name] =
        rt instanceof protobuf.Type && depth <= 0 ? fc.constant([]) : fc.array(one, { maxLength: 3 });
    else if (rt instanceof protobuf.Type)
      fields[f.name] = depth > 0 ? fc.option(one, { nil: null }) : fc.constant(null);
    else fields[f.name] = one;
  }
  return fc.record(fields);
}

describe('runtime.v1 codec', () => {
  it('covers every message of the contract', () => {
    expect(types.length).toBeGreaterThan(140);
  });

  it.each(types.map((t) => [t.fullName.slice('.runtime.v1.'.length).replace(/\./g, '_'), t] as const))(
    'round-trips %s',
    (name, type) => {
      const codec = messageCodec<Record<string, unknown>>(name as MessageTypeName);
      const arb = messageArb(type, 2);
      fc.assert(
        fc.property(arb, (value) => {
          expect(codec.decode(codec.encode(value as never))).toEqual(value);
        }),
        { numRuns: 15 },
      );
    },
  );

  // The client's codecs (message-type.ts) are protobufjs's generated functions without its
  // reflection root; the reflection root's own types must put the same bytes on the wire.
  it.each(types.map((t) => [t.fullName.slice('.runtime.v1.'.length).replace(/\./g, '_'), t] as const))(
    'encodes and decodes %s as the reflection root does',
    (name, type) => {
      const codec = messageCodec<Record<string, unknown>>(name as MessageTypeName);
      fc.assert(
        fc.property(messageArb(type, 2), (value) => {
          const bytes = codec.encode(value as never);
          expect(bytes).toEqual(Buffer.from(type.encode(type.fromObject(value)).finish()));
          expect(codec.decode(bytes)).toEqual(type.toObject(type.decode(bytes), DECODE_OPTIONS));
        }),
        { numRuns: 15 },
      );
    },
  );

  it('puts fields on the wire with the published numbers and types', () => {
    const version = messageCodec('VersionResponse').encode({ runtimeApiVersion: 'v1' });
    expect([...version]).toEqual([0x22, 0x02, 0x76, 0x31]); // field 4, length-delimited
    const status = messageCodec('ContainerStatus').encode({ exitCode: 7, createdAt: 1n });
    expect([...status]).toEqual([0x20, 0x01, 0x38, 0x07]); // created_at = 4 (varint), exit_code = 7 (varint)
    const attach = messageCodec('AttachRequest').encode({ tty: true, stdout: true });
    expect([...attach]).toEqual([0x18, 0x01, 0x20, 0x01]); // tty = 3, stdout = 4 (differs from ExecRequest)
    const image = messageCodec('ImageSpec').encode({ userSpecifiedImage: 'a' });
    expect([...image]).toEqual([0x92, 0x01, 0x01, 0x61]); // field 18
    const big = messageCodec('UInt64Value').encode({ value: 2n ** 64n - 1n });
    expect(messageCodec<{ value: bigint }>('UInt64Value').decode(big).value).toBe(2n ** 64n - 1n);
  });
});
