import type { z } from 'zod';

/** The parts of a zod schema's definition this walk reads (zod v4's `_zod.def`). */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/**
 * The fields of `input` that `schema` does not have, at any depth, as paths like
 * `authentication.anonymus` or `registerWithTaints[0].tolerance`. zod drops such keys without a
 * word; upstream's strict decoding names each (then decodes leniently and runs), so a misspelt
 * nested setting is reported instead of silently ignored. Maps (records) take any key.
 */
export function unknownFieldPaths(schema: z.ZodType, input: unknown, path = ''): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'default':
    case 'optional':
    case 'nullable':
      return unknownFieldPaths(def.innerType!, input, path);
    case 'pipe':
      return unknownFieldPaths(def.in!, input, path);
    case 'array':
      if (!Array.isArray(input)) return [];
      return input.flatMap((item, i) => unknownFieldPaths(def.element!, item, `${path}[${i}]`));
    case 'object': {
      if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
      const shape = def.shape!;
      return Object.entries(input).flatMap(([key, value]) => {
        const at = path === '' ? key : `${path}.${key}`;
        return Object.hasOwn(shape, key) ? unknownFieldPaths(shape[key]!, value, at) : [at];
      });
    }
    default:
      return [];
  }
}
