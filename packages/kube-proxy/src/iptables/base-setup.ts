import { chainsInSave, type IptablesExecutor } from '../shared/iptables-executor';
import { type JumpRule, renderRule } from '../shared/iptables-ruleset';
import { KUBE_FIREWALL } from './chain-names';
import { IPTABLES_JUMP_RULES, KUBELET_JUMP_RULES, LEGACY_JUMP_RULES } from './jump-rules';

/**
 * What a full sync writes besides the ruleset: KUBE-FIREWALL where it is missing (declared in
 * the main payload) and the jumps from built-in chains that are missing (a second, small payload).
 * Two iptables-restore runs instead of an `iptables -N` / `-C` / `-I` process per chain and
 * rule (~30 runs, 0.2–0.5 s).
 */
export interface BaseSetup {
  /** User chains to declare (created if missing); a full sync writes no mangle section. */
  readonly declare: readonly { readonly table: 'nat' | 'filter'; readonly chain: string }[];
  /** Jump rules to insert at the top of their built-in chain, in ENSURED_JUMP_RULES order. */
  readonly insert: readonly JumpRule[];
  /** Jumps in an order earlier versions wrote (LEGACY_JUMP_RULES) found in the kernel: deleted. */
  readonly remove?: readonly JumpRule[];
}

/** The kernel state a full sync needs: nat chains (for stale-chain deletion) and the base setup. */
export interface KernelStateForFullSync {
  readonly natChains: ReadonlySet<string>;
  readonly setup: BaseSetup;
}

/** Every jump a full sync ensures, in upstream's order: ours, then kubelet's KUBE-FIREWALL ones. */
export const ENSURED_JUMP_RULES: readonly JumpRule[] = [...IPTABLES_JUMP_RULES, ...KUBELET_JUMP_RULES];

/** `-A CHAIN args` lines of the built-in chains in a save text. */
function builtinRules(save: string, chains: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const line of save.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const chain = line.slice(3, line.indexOf(' ', 3));
    if (chains.has(chain)) out.add(line);
  }
  return out;
}

/** The `*table … COMMIT` section of each table in an iptables-save text. */
export function splitSaveTables(save: string): Map<string, string> {
  const out = new Map<string, string>();
  let at = save.startsWith('*') ? 0 : save.indexOf('\n*');
  if (at > 0) at += 1;
  while (at >= 0 && save.charCodeAt(at) === 42 /* * */) {
    const nameEnd = save.indexOf('\n', at);
    if (nameEnd < 0) break;
    const commit = save.indexOf('\nCOMMIT', nameEnd);
    const end = commit < 0 ? save.length : commit + '\nCOMMIT'.length;
    out.set(save.slice(at + 1, nameEnd).trim(), save.slice(at, end));
    const next = save.indexOf('\n*', end);
    at = next < 0 ? -1 : next + 1;
  }
  return out;
}

/**
 * Reads the kernel once (one `iptables-save` of every table: each process start costs tens of
 * ms for a big proxy process) and works out what a full sync must add.
 */
export async function readKernelForFullSync(exec: IptablesExecutor): Promise<KernelStateForFullSync> {
  const tables = splitSaveTables(await exec.saveTable());
  const nat = tables.get('nat') ?? '';
  const filter = tables.get('filter') ?? '';
  const builtins = new Set([...ENSURED_JUMP_RULES, ...LEGACY_JUMP_RULES].map((j) => j.chain));
  const present = { nat: builtinRules(nat, builtins), filter: builtinRules(filter, builtins) };
  // iptables-save prints rules in the same canonical form renderRule writes ours in.
  const insert = ENSURED_JUMP_RULES.filter(
    (j) => !present[j.table].has(renderRule(['-A', j.chain, ...j.args])),
  );
  const remove = LEGACY_JUMP_RULES.filter((j) =>
    present[j.table].has(renderRule(['-A', j.chain, ...j.args])),
  );
  const declare: { table: 'nat' | 'filter'; chain: string }[] = [];
  // KUBE-FIREWALL must exist for its jumps; declaring it flushes it, so only when missing
  // (the sync declares and fills it itself while localhost NodePorts are active).
  if (!chainsInSave(filter).has(KUBE_FIREWALL)) declare.push({ table: 'filter', chain: KUBE_FIREWALL });
  return { natChains: chainsInSave(nat), setup: { declare, insert, remove } };
}
