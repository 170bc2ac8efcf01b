import { type NftBatchStats, type NftTransaction, renderScript } from '@nodeagent/netfilter/nftables';
import { EventLoopSlices } from '@nodeagent/primitives/event-loop-slices';
import { InvalidFieldError } from '../errors';
import { runQueueWaitMs } from '../runtime/run-queue-wait';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import type { ConntrackCleaner } from '../shared/conntrack-cleaner';
import { ProxierBase, type ProxierBaseOptions, type SyncResult } from '../shared/proxier-base';
import { syncServiceHealth } from '../shared/sync-service-health';
import { SyncStages } from '../shared/sync-stages';
import type { NftablesBackendOptions } from './build-nftables-ruleset';
import type { ProxierNftables } from './exec-nftables';
import { NFTABLES_TABLE } from './nftables-names';
import { NftablesRuleset } from './nftables-ruleset';

/** Options of NftablesProxier: the common proxier options plus the nftables table and its writer's settings. */
export interface NftablesProxierOptions extends ProxierBaseOptions {
  /**
   * The kube-proxy table of this proxier's family (`ip` for IPv4, `ip6` for IPv6), through
   * @nodeagent/netfilter's NftablesInterface: `execNftables({ family })` on a node (nft, with a
   * long-lived `nft -i` for diffs), FakeNftables in tests, or another implementation.
   */
  nftables: ProxierNftables;
  /** Masquerade, local-traffic and NodePort settings of the ruleset (nftablesOptionsFromConfig). */
  backend?: NftablesBackendOptions;
  /** The health-check node port servers for externalTrafficPolicy=Local Services, kept in step with each sync. */
  serviceHealth?: ServiceHealthServer;
  /** Removes stale UDP flows after each sync (see clearStaleConntrack). */
  conntrack?: ConntrackCleaner;
  /**
   * How long a full sync's synchronous steps (the table's update) run before the event loop gets
   * a turn, in ms (EventLoopSlices; default 8, 0: a turn at every check).
   */
  eventLoopSliceMs?: number;
}

/**
 * Even without failures, replace the whole table this often to repair any drift; also the
 * runner's longest wait without changes, as upstream v1.36's nftables proxier passes its
 * FullSyncPeriod (1 h) as the runner's maxInterval and syncPeriod only as the retry interval
 * (pkg/proxy/nftables/proxier.go NewProxier, runner.NewBoundedFrequencyRunner).
 */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;
/**
 * A full update looks at the clock after every this many Service ports, and hands the event loop
 * back once EventLoopSlices' slice is spent: signals, health checks and informer events then
 * wait a few ms, not the second of a 250k-endpoint table (apps/kube-proxy/bench/loop.bench.ts).
 */
const CHECK_EVERY_SERVICE_PORTS = 16;

/** A batch's cost as the sync line shows it: ms rounded to 0.1, sizes as they are. */
function batchStats(b: NftBatchStats | undefined): Record<string, number> | undefined {
  if (!b) return undefined;
  const ms = (x: number) => Math.round(x * 10) / 10;
  return {
    encodeMs: ms(b.encodeMs),
    encodeCpuMs: ms(b.encodeCpuMs),
    sendMs: ms(b.sendMs),
    messages: b.messages,
    bytes: b.bytes,
  };
}

/** A partial sync's debug line carries its script up to this many operations. */
const LOGGED_SCRIPT_OPERATIONS = 16;

/** Scripts up to this size stay readable as `lastScript`; a full table at 10k Services is ~9 MB. */
const LAST_SCRIPT_KEPT_BYTES = 64 << 10;

/**
 * The nftables-mode proxier. It keeps the table's contents between syncs and rewrites only the
 * Service ports that changed; without session affinity a Service's rules are map elements, so
 * an endpoint change is a transaction of a few element deletes/adds, which `nft` applies without
 * loading more of the table than the maps involved. The first sync, any sync after a failure,
 * and an hourly one replace the whole table instead. Either way one atomic transaction per sync
 * through the NftablesInterface: full ones as a pre-rendered script when it offers `runScript`
 * (execNftables: `nft -f -`), diffs with `run` (execNftables feeds them to a long-lived `nft -i`,
 * which spares a process start and socket teardown per change).
 */
export class NftablesProxier extends ProxierBase {
  /**
   * The last sync's script for `nft -f` (diffs rendered on first read: a netlink back end never
   * needs the text), or '' when it is larger than 64 KiB (see lastScriptBytes) or the last sync
   * was a full one through `runTable` or `run(fullTransaction())`.
   */
  get lastScript(): string {
    const script = this.renderedLast();
    return script.length <= LAST_SCRIPT_KEPT_BYTES ? script : '';
  }
  /** Length of the last sync's script (0 for a full one through `runTable` or `run`). */
  get lastScriptBytes(): number {
    return this.lastScriptLength ?? this.renderedLast().length;
  }
  /** The last script when kept, or the last diff to render on demand. */
  private last: string | NftTransaction = '';
  private lastScriptLength: number | undefined = 0;
  private ruleset: NftablesRuleset;
  /** False until a full replacement succeeded, and again after any failure. */
  private inSync = false;
  private lastFullSync = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: NftablesProxierOptions) {
    super(opts, FORCED_FULL_SYNC_INTERVAL_MS);
    const family = opts.family === 'IPv6' ? 'ip6' : 'ip';
    if (opts.nftables.family !== family)
      throw new InvalidFieldError(
        'nftables.family',
        opts.nftables.family,
        `must be ${family} for an ${opts.family} proxier`,
      );
    if (opts.nftables.table !== NFTABLES_TABLE)
      throw new InvalidFieldError('nftables.table', opts.nftables.table, `must be ${NFTABLES_TABLE}`);
    EventLoopSlices.checkSliceMs(opts.eventLoopSliceMs, 'eventLoopSliceMs');
    this.ruleset = new NftablesRuleset(opts.family, opts.backend);
  }

  /**
   * Starts the runner, and opens the interface's socket meanwhile (prepare): the first sync waits
   * for the informers, so it no longer opens it itself. A failure here is the first sync's to report.
   */
  override start(): void {
    super.start();
    this.opts.nftables.prepare?.().catch(() => undefined);
  }

  /** Stops syncing and ends the interface's long-lived nft process, if any. */
  override async stop(): Promise<void> {
    await super.stop();
    await this.opts.nftables.close?.();
  }

  private keepScript(script: string): void {
    this.lastScriptLength = script.length;
    this.last = script.length <= LAST_SCRIPT_KEPT_BYTES ? script : '';
  }

  private renderedLast(): string {
    if (typeof this.last !== 'string') {
      const family = this.family === 'IPv6' ? 'ip6' : 'ip';
      this.keepScript(renderScript(family, NFTABLES_TABLE, this.last, { emulateDestroy: false }));
    }
    return this.last as string;
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    const stages = new SyncStages();
    // Counted from here: a big snapshot's CPU is in the first slice.
    const slices = new EventLoopSlices({ sliceMs: this.opts.eventLoopSliceMs });
    const snapshot = this.checkoutSnapshot();
    stages.mark('snapshot');
    let result: SyncResult;
    let kind: 'full' | 'partial' = 'full';
    let operations = 0;
    let waitedAtStamp: number | undefined;
    try {
      // A big snapshot took CPU; so does a full update of the table (handed back in steps). An
      // update of only the Services whose endpoints changed is short, and a turn of the event
      // loop before it only let other work (a metrics scrape) delay the change (issue #54).
      if (this.ruleset.walksAll(snapshot)) await slices.next();
      stages.mark('yield');
      await this.ruleset.updateInSteps(snapshot, () => slices.next(), CHECK_EVERY_SERVICE_PORTS);
      stages.mark('update');
      const diff =
        this.inSync && start - this.lastFullSync < FORCED_FULL_SYNC_INTERVAL_MS
          ? this.ruleset.diffTransaction()
          : undefined;
      stages.mark('diff');
      if (diff) {
        kind = 'partial';
        this.last = diff;
        this.lastScriptLength = undefined;
        operations = diff.size;
        if (diff.size > 0) await this.opts.nftables.run(diff);
      } else {
        // Until this succeeds the kernel's table is unknown: never diff against it.
        this.inSync = false;
        const nft = this.opts.nftables;
        if (nft.runTable) {
          // The table itself (netlink: elements encoded from its text, no script rendered).
          this.keepScript('');
          await nft.runTable(this.ruleset.table);
        } else if (nft.runScript) {
          const script = this.ruleset.fullScript();
          this.keepScript(script);
          await nft.runScript(script);
        } else {
          this.keepScript('');
          await nft.run(this.ruleset.fullTransaction());
        }
        this.inSync = true;
        this.lastFullSync = start;
      }
      stages.mark('kernel');
      this.ruleset.commit();
      stages.mark('commit');
      const end = this.clock.now();
      result = { kind, ok: true, durationMs: end - start };
      this.syncSucceeded(kind, start, end, snapshot);
      this.recordNoLocalEndpoints(this.ruleset.noLocalEndpoints);
      stages.mark('metrics');
      // At the stamp, for the debug line only: how long this thread had waited for a core.
      waitedAtStamp = this.log.isLevelEnabled?.('debug') ? runQueueWaitMs() : undefined;
      if (this.opts.serviceHealth) await syncServiceHealth(this.opts.serviceHealth, snapshot);
      stages.mark('health');
      await this.clearConntrack(this.opts.conntrack, snapshot);
      stages.mark('conntrack');
    } catch (err) {
      this.inSync = false;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      this.opts.metrics?.nftablesSyncFailuresTotal.inc({ ip_family: this.family });
      this.log.error({ err, family: this.family }, 'failed to sync nftables rules');
      this.retryAfterFailure();
    }
    this.recordResult(result);
    this.logStages(result, operations, stages, waitedAtStamp);
    return result;
  }

  /**
   * The sync's debug line (-v=4), like upstream's "SyncProxyRules complete" with its parts: when
   * its oldest change was tracked, when it started, and each stage's ms ('kernel' is the
   * transaction from encoding to the kernel's answer; 'metrics' ends where the sync's timestamp
   * metric is stamped), and the thread's run-queue wait so far at that stamp (runQueueWaitMs: a
   * trace subtracts an earlier reading to see how long the change waited for a core).
   */
  private logStages(
    result: SyncResult,
    operations: number,
    stages: SyncStages,
    waitedAtStamp: number | undefined,
  ): void {
    const proxier = this;
    this.log.debug(
      {
        kind: result.kind,
        ok: result.ok,
        family: this.family,
        operations,
        trackedAt: this.checkedOutPendingSince,
        startAt: stages.startAt,
        stages: stages.durations(),
        runQueueWaitMs: waitedAtStamp,
        // A full sync's 'kernel' stage in parts, where the interface measures them (netlink).
        batch: result.kind === 'full' ? batchStats(this.opts.nftables.lastBatch) : undefined,
        // A small diff's script, rendered only when the line is written (a getter: a logger
        // below debug never reads it).
        get script(): string | undefined {
          return result.kind === 'partial' && operations <= LOGGED_SCRIPT_OPERATIONS
            ? proxier.lastScript
            : undefined;
        },
      },
      'synced nftables rules',
    );
  }
}
