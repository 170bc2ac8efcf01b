import { renderScript } from '@nodeagent/netfilter/nftables';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import type { ConntrackCleaner } from '../shared/conntrack-cleaner';
import { ProxierBase, type ProxierBaseOptions, type SyncResult } from '../shared/proxier-base';
import { syncServiceHealth } from '../shared/sync-service-health';
import type { NftablesBackendOptions } from './build-nftables-ruleset';
import type { NftablesExecutor } from './nftables-executor';
import { NFTABLES_TABLE } from './nftables-names';
import { NftablesRuleset } from './nftables-ruleset';

export interface NftablesProxierOptions extends ProxierBaseOptions {
  executor: NftablesExecutor;
  backend?: NftablesBackendOptions;
  serviceHealth?: ServiceHealthServer;
  /** Removes stale UDP flows after each sync (see clearStaleConntrack). */
  conntrack?: ConntrackCleaner;
}

/** Even without failures, replace the whole table this often to repair any drift. */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The nftables-mode proxier. It keeps the table's contents between syncs and rewrites only the
 * Service ports that changed; without session affinity a Service's rules are map elements, so
 * an endpoint change is a transaction of a few element deletes/adds, which `nft` applies without
 * loading more of the table than the maps involved. The first sync, any sync after a failure,
 * and an hourly one replace the whole table instead. Either way one atomic transaction per sync:
 * full ones through `nft -f -`, diffs through the executor's `applyDiff` (a long-lived `nft -i`
 * with execNftables, which spares a process start and socket teardown per change).
 */
/** Scripts up to this size stay readable as `lastScript`; a full table at 10k Services is ~9 MB. */
const LAST_SCRIPT_KEPT_BYTES = 64 << 10;

export class NftablesProxier extends ProxierBase {
  /** The last script applied, or '' when it was larger than 64 KiB (see lastScriptBytes). */
  lastScript = '';
  /** Length of the last script applied. */
  lastScriptBytes = 0;
  private ruleset: NftablesRuleset;
  /** False until a full replacement succeeded, and again after any failure. */
  private inSync = false;
  private lastFullSync = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: NftablesProxierOptions) {
    super(opts);
    this.ruleset = new NftablesRuleset(opts.family, opts.backend);
  }

  /** Stops syncing and ends the executor's long-lived nft process, if any. */
  override async stop(): Promise<void> {
    await super.stop();
    await this.opts.executor.close?.();
  }

  private keepScript(script: string): void {
    this.lastScriptBytes = script.length;
    this.lastScript = script.length <= LAST_SCRIPT_KEPT_BYTES ? script : '';
  }

  private applyDiff(script: string): Promise<void> {
    const ex = this.opts.executor;
    return ex.applyDiff ? ex.applyDiff(script) : ex.apply(script);
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    const snapshot = this.state.snapshot();
    let result: SyncResult;
    let kind: 'full' | 'partial' = 'full';
    const family = this.family === 'IPv6' ? 'ip6' : 'ip';
    try {
      this.ruleset.update(snapshot);
      const diff =
        this.inSync && start - this.lastFullSync < FORCED_FULL_SYNC_INTERVAL_MS
          ? this.ruleset.diffTransaction()
          : undefined;
      if (diff) {
        kind = 'partial';
        const script = renderScript(family, NFTABLES_TABLE, diff, { emulateDestroy: false });
        this.keepScript(script);
        if (diff.size > 0) await this.applyDiff(script);
      } else {
        const script = this.ruleset.fullScript();
        this.keepScript(script);
        // Until this succeeds the kernel's table is unknown: never diff against it.
        this.inSync = false;
        await this.opts.executor.apply(script);
        this.inSync = true;
        this.lastFullSync = start;
      }
      this.ruleset.commit();
      const end = this.clock.now();
      result = { kind, ok: true, durationMs: end - start };
      this.syncSucceeded(kind, start, end, snapshot);
      this.recordNoLocalEndpoints(this.ruleset.noLocalEndpoints);
      if (this.opts.serviceHealth) await syncServiceHealth(this.opts.serviceHealth, snapshot);
      await this.clearConntrack(this.opts.conntrack, snapshot);
    } catch (err) {
      this.inSync = false;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      this.opts.metrics?.nftablesSyncFailuresTotal.inc();
      this.log.error({ err, family: this.family }, 'failed to sync nftables rules');
      this.retryAfterFailure();
    }
    this.recordResult(result);
    return result;
  }
}
