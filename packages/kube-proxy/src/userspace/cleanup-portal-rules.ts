import type { IptablesClient } from '@nodeagent/netfilter';
import { cleanupChains } from '../shared/cleanup-chains';
import { USERSPACE_CHAINS } from './portal-chains';

/**
 * Removes everything userspace mode put in the nat table (for a mode switch; `--cleanup` does
 * the same in its one pass over every mode): every rule jumping into our chains, then the chains
 * themselves. One iptables-save, then one `iptables-restore --noflush` if anything is there.
 * Returns how many jumps and chains were removed.
 */
export async function cleanupPortalRules(
  iptables: Pick<IptablesClient, 'saveText' | 'restore'>,
): Promise<{ jumps: number; chains: number }> {
  const r = await cleanupChains(
    {
      saveTable: () => iptables.saveText(),
      restore: async (payload) => {
        await iptables.restore(payload, { validate: false });
      },
    },
    {
      jumps: [],
      chainsOf: (table, existing) => (table === 'nat' ? USERSPACE_CHAINS.filter((c) => existing.has(c)) : []),
      natJumpTargets: USERSPACE_CHAINS,
    },
  );
  return { jumps: r.deletedJumps, chains: r.deletedChains };
}
