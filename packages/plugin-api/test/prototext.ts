import protobuf from 'protobufjs';

/**
 * A decoded message in Go's protobuf text format as upstream's DRA driver logs it
 * (`claims:{namespace:"default"  uid:"..."}`): snake_case names in field-number order, unset
 * and zero fields left out, fields two spaces apart, map entries as `key:... value:{...}`.
 * For comparing with recorded exchanges; only what those carry (strings, bools, messages,
 * repeated fields, string-keyed maps) is rendered.
 */
export function protoText(type: protobuf.Type, value: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    field.resolve();
    const v = value[field.name];
    const name = snake(field.name);
    const one = (x: unknown): string =>
      field.resolvedType instanceof protobuf.Type
        ? `{${protoText(field.resolvedType, x as Record<string, unknown>)}}`
        : JSON.stringify(x);
    if (field.map) {
      for (const [k, x] of Object.entries((v ?? {}) as Record<string, unknown>))
        parts.push(`${name}:{key:${JSON.stringify(k)}  value:${one(x)}}`);
    } else if (field.repeated) {
      for (const x of (v ?? []) as unknown[]) parts.push(`${name}:${one(x)}`);
    } else if (v !== undefined && v !== null && v !== '' && v !== false && v !== 0) {
      parts.push(`${name}:${one(v)}`);
    }
  }
  return parts.join('  ');
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
