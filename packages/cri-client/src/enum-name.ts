/** Name of a generated enum value, e.g. `enumName(ContainerState, 1)` → "CONTAINER_RUNNING". */
export function enumName(enumObject: Readonly<Record<string, number>>, value: number): string {
  for (const [k, v] of Object.entries(enumObject)) if (v === value) return k;
  return String(value);
}
