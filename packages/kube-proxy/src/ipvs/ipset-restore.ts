import { ipsetCreateArgs } from './ipset-definitions';
import type { PlannedIpset } from './ipvs-plan';

/**
 * The `ipset restore -exist` script taking the kernel from `current` (entries per set name;
 * undefined = unknown, so every set is (re)declared) to the planned sets: one batch per sync.
 */
export function renderIpsetRestore(
  planned: Iterable<PlannedIpset>,
  current: ReadonlyMap<string, ReadonlySet<string>> | undefined,
): string {
  const lines: string[] = [];
  for (const set of planned) {
    const have = current?.get(set.name);
    if (!have) lines.push(`create ${set.name} ${ipsetCreateArgs(set.definition.type, set.family).join(' ')}`);
    for (const e of set.entries) if (!have?.has(e)) lines.push(`add ${set.name} ${e}`);
    if (have) for (const e of have) if (!set.entries.has(e)) lines.push(`del ${set.name} ${e}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
