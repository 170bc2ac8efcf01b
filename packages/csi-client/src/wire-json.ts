import type protobuf from 'protobufjs';
import { csiV1Root } from './proto-roots';

/**
 * A CSI message as the Go drivers log it (protobuf field names in snake_case, enums by name,
 * unset and default-valued fields left out, map keys as sent): `{"volume_id":"v1","target_path":...}`.
 * For recording and comparing exchanges; `typeName` is the message name (`NodePublishVolumeRequest`).
 */
export function csiWireJson(typeName: string, value: object): unknown {
  const type = csiV1Root().lookupType(`csi.v1.${typeName}`);
  return toWire(type, type.fromObject(value));
}

function toWire(type: protobuf.Type, message: protobuf.Message): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const obj = message as unknown as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(obj, field.name)) continue;
    const v = obj[field.name];
    const name =
      field.options?.protoName ?? (field as unknown as { protoName?: string }).protoName ?? snake(field.name);
    const conv = (x: unknown): unknown => {
      if (field.resolvedType && 'fieldsArray' in field.resolvedType)
        return toWire(field.resolvedType as protobuf.Type, x as protobuf.Message);
      if (field.resolvedType && 'valuesById' in field.resolvedType)
        return (field.resolvedType as protobuf.Enum).valuesById[x as number];
      if (typeof x === 'object' && x !== null && 'toNumber' in x)
        return (x as { toNumber(): number }).toNumber();
      return x;
    };
    if (field.map) {
      const m = v as Record<string, unknown>;
      if (Object.keys(m).length === 0) continue;
      out[name] = Object.fromEntries(
        Object.keys(m)
          .sort()
          .map((k) => [k, conv(m[k])]),
      );
    } else if (field.repeated) {
      const a = v as unknown[];
      if (a.length === 0) continue;
      out[name] = a.map(conv);
    } else if (field.resolvedType && 'fieldsArray' in field.resolvedType) {
      if (v == null) continue;
      out[name] = conv(v);
    } else {
      if (v === '' || v === false || v === 0 || v == null) continue;
      out[name] = conv(v);
    }
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
