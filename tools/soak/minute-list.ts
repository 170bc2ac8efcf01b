/**
 * A flag's list of minutes of the soak (`20,40` → [20, 40]): at least `atLeast` whole minutes
 * from 1 to `last`, ascending; undefined for anything else.
 */
export function parseMinuteList(value: string, atLeast: number, last: number): number[] | undefined {
  const list = value.split(',').map((m) => Number(m.trim()));
  const ok =
    list.length >= atLeast &&
    list.every(
      (m, i) => Number.isInteger(m) && m >= 1 && m <= last && (i === 0 || m > (list[i - 1] as number)),
    );
  return ok ? list : undefined;
}
