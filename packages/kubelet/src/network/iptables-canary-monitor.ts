import type { IptablesInterface, TableName } from '@nodeagent/netfilter/iptables';
import type { Clock } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';

// utiliptables' iptablesFlushPollTime and iptablesFlushTimeout: once the first table's canary is
// gone, how often and how long to wait for the others' before reloading anyway.
const FLUSH_POLL_MS = 100;
const FLUSH_TIMEOUT_MS = 5_000;

/** What watches for a flush of the rules and re-creates them. */
export interface IptablesCanaryOptions {
  /** The family's iptables. */
  client: IptablesInterface;
  /** The canary chain's name, created in every table of `tables`. */
  canary: string;
  /** The tables holding a canary; the first is the one checked every interval. */
  tables: readonly TableName[];
  /** Re-creates the rules after the canary was found deleted. */
  reload: () => Promise<unknown>;
  /** How often the first table's canary is checked (upstream's kubelet: one minute). */
  intervalMs: number;
  /** Drives the interval and the 100 ms polls of a flush. */
  clock: Clock;
  /** Where upstream's canary messages go. */
  logger: KubeletLogger;
}

/** A running canary monitor. */
export interface IptablesCanaryMonitor {
  /** Ends the monitor; the canary chains stay (the kubelet never stops its monitors). */
  stop(): void;
  /** Resolves once the monitor next waits on its clock: a test driving a FakeClock awaits it after each advance. */
  idle(): Promise<void>;
}

/**
 * utiliptables' Monitor: create the canary chain in each table (retried every interval until all
 * exist), then check every interval that the first table's one is still there. When it is gone
 * (someone flushed iptables), wait up to 5 s for the other tables' canaries to go too so the
 * flush is over, call `reload`, and start again by re-creating the canaries.
 */
export function monitorIptablesCanary(options: IptablesCanaryOptions): IptablesCanaryMonitor {
  const { clock } = options;
  let stopped = false;
  let waiting = false;
  let wake: (() => void) | undefined;
  let handle: unknown;
  let idleWaiters: (() => void)[] = [];
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      handle = clock.setTimeout(() => {
        waiting = false;
        resolve();
      }, ms);
      unrefTimer(handle);
      waiting = true;
      for (const waiter of idleWaiters) waiter();
      idleWaiters = [];
    });
  const running = () => !stopped;
  void runMonitor(options, sleep, running);
  return {
    stop() {
      stopped = true;
      clock.clearTimeout(handle);
      wake?.();
    },
    idle() {
      return waiting || stopped ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

type Sleep = (ms: number) => Promise<void>;

async function runMonitor(
  options: IptablesCanaryOptions,
  sleep: Sleep,
  running: () => boolean,
): Promise<void> {
  while (running()) {
    while (running() && !(await ensureCanaries(options))) await sleep(options.intervalMs);
    if (!running()) return;
    await sleep(options.intervalMs);
    while (running() && !(await canaryDeleted(options, sleep))) await sleep(options.intervalMs);
    if (!running()) return;
    await options.reload();
  }
}

async function ensureCanaries({ client, canary, tables, logger }: IptablesCanaryOptions): Promise<boolean> {
  for (const table of tables) {
    try {
      await client.ensureChain(table, canary);
    } catch (error) {
      logger.error({ err: String(error), table, chain: canary }, 'Could not set up iptables canary');
      return false;
    }
  }
  return true;
}

/**
 * Whether the first table's canary is gone; then waits for the others to go too. A check that
 * cannot run (upstream: a resource error) counts as the canary still being there.
 */
async function canaryDeleted(options: IptablesCanaryOptions, sleep: Sleep): Promise<boolean> {
  const { client, canary, tables, logger } = options;
  const [first, ...rest] = tables;
  if (first === undefined) return false;
  try {
    if (await client.chainExists(first, canary)) return false;
  } catch (error) {
    logger.error({ err: String(error), table: first, chain: canary }, 'Could not check for iptables canary');
    return false;
  }
  // Upstream's "IPTables canary deleted" is a V(2) line, below this logger's levels.
  for (let waited = 0; ; waited += FLUSH_POLL_MS) {
    if (await allGone(client, rest, canary)) return true;
    if (waited >= FLUSH_TIMEOUT_MS) break;
    await sleep(FLUSH_POLL_MS);
  }
  logger.info({}, 'Inconsistent iptables state detected');
  return true;
}

async function allGone(
  client: IptablesInterface,
  tables: readonly TableName[],
  canary: string,
): Promise<boolean> {
  for (const table of tables) {
    const exists = await client.chainExists(table, canary).catch(() => true);
    if (exists) return false;
  }
  return true;
}
