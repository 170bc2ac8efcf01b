import type { IptablesClient } from '@nodeagent/netfilter';
import { renderRuleArgs } from '@nodeagent/netfilter/iptables';
import { USERSPACE_CHAINS } from './portal-chains';

const OWNED = new Set<string>(USERSPACE_CHAINS);

/**
 * Removes everything userspace mode put in the nat table (for `--cleanup` or a mode switch):
 * the jumps from PREROUTING/OUTPUT into our chains, then the chains themselves, in one
 * `iptables-restore --noflush`. Reads the table first so only rules that exist are deleted.
 * Returns how many jumps and chains were removed.
 */
export async function cleanupPortalRules(
  iptables: Pick<IptablesClient, 'save' | 'restore'>,
): Promise<{ jumps: number; chains: number }> {
  const nat = (await iptables.save('nat')).tables.find((t) => t.name === 'nat');
  if (!nat) return { jumps: 0, chains: 0 };
  const lines = ['*nat'];
  let jumps = 0;
  for (const chain of nat.chains) {
    if (OWNED.has(chain.name)) continue;
    for (const rule of chain.rules) {
      if (rule.target?.kind === 'jump' && OWNED.has(rule.target.chain)) {
        lines.push(`-D ${chain.name} ${renderRuleArgs(rule)}`);
        jumps++;
      }
    }
  }
  const present = nat.chains.filter((c) => OWNED.has(c.name)).map((c) => c.name);
  // Declaring a chain in a --noflush payload flushes it, so -X finds it empty.
  for (const name of present) lines.push(`:${name} - [0:0]`);
  for (const name of present) lines.push(`-X ${name}`);
  if (jumps === 0 && present.length === 0) return { jumps: 0, chains: 0 };
  lines.push('COMMIT', '');
  await iptables.restore(lines.join('\n'), { validate: false });
  return { jumps, chains: present.length };
}
