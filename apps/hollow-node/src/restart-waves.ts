import type { HollowNode } from './hollow-node';
import type { RequestCounter } from './request-counter';

/** What one restart wave cost: the requests of the restarted nodes and of the others meanwhile. */
export interface RestartWaveReport {
  /** 1 for the first wave. */
  wave: number;
  /** When it started, in seconds since the run's start. */
  atSeconds: number;
  nodes: string[];
  /**
   * From the stop until every restarted node had sent its watches again (as many as it had open
   * before); null when that did not happen within the wave's time limit.
   */
  secondsToWatchesBack: number | null;
  /**
   * With kube-proxy halves (`--morph proxy` or `both`): from the stop until every restarted
   * node's new kube-proxy had finished a sync that wrote its rules, which it does only once its
   * Service and EndpointSlice informers hold the whole state (the relist's end, not its start);
   * null when that did not happen within the wave's time limit. Absent without kube-proxy halves.
   */
  secondsToProxiesSynced?: number | null;
  /** Requests of the restarted nodes in the wave, summed, by "VERB resource" (their relists: LIST and WATCH). */
  restarted: { total: number; byKind: Record<string, number> };
  /** Requests of every other node in the same span: a wave should not make them relist. */
  others: { total: number; byKind: Record<string, number> };
  /**
   * Connections opened in the same span by the restarted nodes and by the others: each one a TCP
   * connection the API server accepts and, over TLS, a handshake it pays for.
   */
  connectionsOpened: { restarted: number; others: number };
}

/** How the waves pick and wait. */
export interface RestartWaveOptions {
  /** Share of the nodes restarted at once, in percent (at least one node). */
  percent: number;
  /** How long a wave waits for the restarted nodes' watches (default 120 s). */
  timeLimitMs?: number;
  /** The run's start, for atSeconds. */
  runStartMs: number;
  now?: () => number;
}

/** `after` minus `before`, kinds with no new request left out, sorted. */
function difference(before: Map<string, number>, after: Map<string, number>) {
  const byKind: Record<string, number> = {};
  let total = 0;
  for (const [kind, count] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
    const added = count - (before.get(kind) ?? 0);
    if (added <= 0) continue;
    byKind[kind] = added;
    total += added;
  }
  return { total, byKind };
}

/** Whether `node`'s kube-proxy half, if it has one, has finished a sync that wrote its rules. */
function proxySynced(node: HollowNode): boolean {
  return node.proxy?.proxier.history.some((result) => result.ok) ?? true;
}

/** The connections `nodes` have opened so far (since the counter's last reset). */
function connectionsOpened(counter: RequestCounter, nodes: readonly string[]): number {
  let opened = 0;
  for (const node of nodes) opened += counter.perNode.get(node)?.sockets.totals().opened ?? 0;
  return opened;
}

/** The watches `node` has sent so far (every WATCH kind). */
export function watchesSent(counter: RequestCounter, node: string): number {
  let sent = 0;
  for (const [kind, count] of counter.perNode.get(node)?.byKind ?? [])
    if (kind.startsWith('WATCH ')) sent += count;
  return sent;
}

/**
 * Restart waves: `percent` of the nodes (the next ones in turn, wave after wave) stop their
 * agents and start them again at the same moment, as when a DaemonSet update or a zone's reboot
 * restarts many kubelets at once. No jitter is added: each restarted agent's informers list (or
 * stream) their state at once, and their retries back off with jitter as upstream's reflector
 * does (initial 800 ms, doubling to 30 s, jitter 1.0) — the herd is what upstream's would be.
 */
export class RestartWaves {
  readonly reports: RestartWaveReport[] = [];
  private nextIndex = 0;
  private readonly now: () => number;

  constructor(
    private readonly nodes: readonly HollowNode[],
    private readonly counter: RequestCounter,
    private readonly options: RestartWaveOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The nodes of the next wave: ceil(percent × N / 100), at least one, from where the last wave stopped. */
  private nextNodes(): HollowNode[] {
    const n = this.nodes.length;
    const size = Math.min(n, Math.max(1, Math.ceil((this.options.percent * n) / 100)));
    const chosen = Array.from({ length: size }, (_, i) => this.nodes[(this.nextIndex + i) % n] as HollowNode);
    this.nextIndex = (this.nextIndex + size) % n;
    return chosen;
  }

  /**
   * Polls until every restarted node has sent as many watches since `sentBefore` as it had open
   * and every new kube-proxy half has synced, or the time limit passes: when each was first seen
   * true (undefined: not within the limit).
   */
  private async waitForWave(
    chosen: readonly HollowNode[],
    sentBefore: number[],
    openBefore: number[],
  ): Promise<{ watchesBackAt?: number; proxiesSyncedAt?: number }> {
    const deadline = this.now() + (this.options.timeLimitMs ?? 120_000);
    const watchesBack = () =>
      chosen.every(
        (node, i) => watchesSent(this.counter, node.name) - (sentBefore[i] ?? 0) >= (openBefore[i] ?? 0),
      );
    const seen: { watchesBackAt?: number; proxiesSyncedAt?: number } = {};
    for (;;) {
      const now = this.now();
      if (seen.watchesBackAt === undefined && watchesBack()) seen.watchesBackAt = now;
      if (seen.proxiesSyncedAt === undefined && chosen.every(proxySynced)) seen.proxiesSyncedAt = now;
      if (seen.watchesBackAt !== undefined && seen.proxiesSyncedAt !== undefined) return seen;
      if (now >= deadline) return seen;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Waits, up to the wave's time limit, until every node's kube-proxy half has finished its first
   * sync: a wave restarts agents in a steady cluster, as a rollout does, not ones still reading
   * their first state (a thousand nodes' first syncs outlast a 5 s period). With worker threads
   * the parent waits for every thread's before any restarts, so the herd still moves at once.
   */
  async untilSteady(): Promise<void> {
    const deadline = this.now() + (this.options.timeLimitMs ?? 120_000);
    while (!this.nodes.every(proxySynced) && this.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Runs one wave: stop and start the next nodes' agents, wait for their watches, report. */
  async run(): Promise<RestartWaveReport> {
    if (this.nodes.length === 0) throw new Error('no hollow node to restart');
    const chosen = this.nextNodes();
    const names = chosen.map((node) => node.name);
    const others = this.nodes.filter((node) => !chosen.includes(node)).map((node) => node.name);
    const openBefore = names.map((name) => this.counter.perNode.get(name)?.openWatches ?? 0);
    const sentBefore = names.map((name) => watchesSent(this.counter, name));
    const before = { restarted: this.counter.countsOf(names), others: this.counter.countsOf(others) };
    const openedBefore = {
      restarted: connectionsOpened(this.counter, names),
      others: connectionsOpened(this.counter, others),
    };
    const started = this.now();
    await Promise.all(chosen.map((node) => node.restart()));
    const { watchesBackAt, proxiesSyncedAt } = await this.waitForWave(chosen, sentBefore, openBefore);
    const since = (at: number | undefined) =>
      at === undefined ? null : Number(((at - started) / 1000).toFixed(3));
    const report: RestartWaveReport = {
      wave: this.reports.length + 1,
      atSeconds: Number(((started - this.options.runStartMs) / 1000).toFixed(1)),
      nodes: names,
      secondsToWatchesBack: since(watchesBackAt),
      ...(chosen.some((node) => node.proxy) ? { secondsToProxiesSynced: since(proxiesSyncedAt) } : {}),
      restarted: difference(before.restarted, this.counter.countsOf(names)),
      others: difference(before.others, this.counter.countsOf(others)),
      connectionsOpened: {
        restarted: connectionsOpened(this.counter, names) - openedBefore.restarted,
        others: connectionsOpened(this.counter, others) - openedBefore.others,
      },
    };
    this.reports.push(report);
    return report;
  }
}

/** `a` plus `b`, by kind, sorted. */
function addCounts(a: RestartWaveReport['restarted'], b: RestartWaveReport['restarted']) {
  const byKind: Record<string, number> = { ...a.byKind };
  for (const [kind, count] of Object.entries(b.byKind)) byKind[kind] = (byKind[kind] ?? 0) + count;
  const sorted = Object.fromEntries(Object.entries(byKind).sort(([x], [y]) => x.localeCompare(y)));
  return { total: a.total + b.total, byKind: sorted };
}

/** The slowest of the threads' times, null if any thread's did not come. */
function slowest(times: readonly (number | null)[]): number | null {
  return times.includes(null) ? null : Math.max(...(times as number[]));
}

/**
 * One wave run by every worker thread at once (each restarting its share of its own nodes) as
 * one report: its nodes, the slowest thread's time to the watches back (null if any was not
 * back; the same for the proxies' syncs), the requests summed. Each worker's `others` are its own other nodes, so their sum is
 * every node not restarted.
 */
export function mergeWaveReports(wave: number, reports: readonly RestartWaveReport[]): RestartWaveReport {
  const empty = { total: 0, byKind: {} };
  const synced = reports.map((r) => r.secondsToProxiesSynced).filter((t) => t !== undefined);
  return {
    wave,
    atSeconds: Math.min(...reports.map((r) => r.atSeconds)),
    nodes: reports.flatMap((r) => r.nodes),
    secondsToWatchesBack: slowest(reports.map((r) => r.secondsToWatchesBack)),
    ...(synced.length > 0 ? { secondsToProxiesSynced: slowest(synced) } : {}),
    restarted: reports.reduce((sum, r) => addCounts(sum, r.restarted), empty),
    others: reports.reduce((sum, r) => addCounts(sum, r.others), empty),
    connectionsOpened: {
      restarted: reports.reduce((sum, r) => sum + r.connectionsOpened.restarted, 0),
      others: reports.reduce((sum, r) => sum + r.connectionsOpened.others, 0),
    },
  };
}
