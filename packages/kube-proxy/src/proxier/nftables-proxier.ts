import { renderScript } from '@nodeagent/netfilter';
import {
  buildNftablesRuleset,
  NFTABLES_TABLE,
  type NftablesBackendOptions,
} from '../nftables/build-nftables-ruleset';
import { desiredStateOf, diffNftables, type NftDesiredState } from '../nftables/nftables-diff';
import type { NftablesExecutor } from '../nftables/nftables-executor';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import { ProxierBase, type ProxierBaseOptions, type SyncResult } from './proxier-base';
import { syncServiceHealth } from './sync-service-health';

export interface NftablesProxierOptions extends ProxierBaseOptions {
  executor: NftablesExecutor;
  backend?: NftablesBackendOptions;
  serviceHealth?: ServiceHealthServer;
}

/** Even without failures, replace the whole table this often to repair any drift. */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The nftables-mode proxier. The first sync, any sync after a failure, and an hourly one
 * replace the family's `kube-proxy` table atomically; every other sync applies only the
 * difference to what was last applied (changed chains flushed and rewritten, changed map
 * elements deleted/added, stale chains and sets removed), so a one-endpoint change is a small
 * transaction. Either way the change is one atomic `nft -f`.
 */
export class NftablesProxier extends ProxierBase {
  lastScript = '';
  /** What the kernel holds after our last successful sync; undefined forces a full replacement. */
  private applied: NftDesiredState | undefined;
  private lastFullSync = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: NftablesProxierOptions) {
    super(opts);
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    const snapshot = this.state.snapshot();
    let result: SyncResult;
    let kind: 'full' | 'partial' = 'full';
    try {
      const built = buildNftablesRuleset(snapshot, this.opts.backend);
      const desired = desiredStateOf(built.transaction.operations);
      const diff =
        this.applied && start - this.lastFullSync < FORCED_FULL_SYNC_INTERVAL_MS
          ? diffNftables(this.applied, desired)
          : undefined;
      if (diff) {
        kind = 'partial';
        this.lastScript = renderScript(this.family === 'IPv6' ? 'ip6' : 'ip', NFTABLES_TABLE, diff, {
          emulateDestroy: false,
        });
        if (diff.size > 0) await this.opts.executor.apply(this.lastScript);
      } else {
        this.lastScript = built.script;
        // Forget the old state first: if the apply fails we must not diff against it.
        this.applied = undefined;
        await this.opts.executor.apply(built.script);
        this.lastFullSync = start;
      }
      this.applied = desired;
      const end = this.clock.now();
      result = { kind, ok: true, durationMs: end - start };
      this.syncSucceeded(kind, start, end, snapshot);
      this.recordNoLocalEndpoints(built.noLocalEndpoints);
      if (this.opts.serviceHealth) await syncServiceHealth(this.opts.serviceHealth, snapshot);
    } catch (err) {
      this.applied = undefined;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      this.opts.metrics?.nftablesSyncFailuresTotal.inc();
      this.log.error({ err, family: this.family }, 'failed to sync nftables rules');
      this.retryAfterFailure();
    }
    this.recordResult(result);
    return result;
  }
}
