import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { IptablesBackendOptions } from './iptables-backend-options';
import { IptablesRuleCache, type PreparedIptablesSync } from './iptables-rule-cache';

/**
 * The iptables-restore input (`payload`, for `--noflush`) a full sync of the daemon writes for
 * this snapshot, with its rule counts: the daemon's own renderer (IptablesRuleCache) on a fresh
 * cache, so `render`, `explain`, goldens and tests see exactly what the proxier programs.
 * `existingNatChains` (a listing of the kernel's nat table) names per-service chains that are
 * stale: the payload flushes and deletes them. A pure function: no kernel is touched.
 */
export function renderIptablesRuleset(
  snapshot: ProxySnapshot,
  options: IptablesBackendOptions = {},
  existingNatChains: Iterable<string> = [],
): PreparedIptablesSync {
  return new IptablesRuleCache(options, snapshot.family).prepare(snapshot, { full: true, existingNatChains });
}
