import type { Clock } from '@nodeagent/primitives';

// utiliptables' iptablesFlushPollTime and iptablesFlushTimeout: once the first table's canary is
// gone, how often and how long to wait for the others' before reloading anyway.
const FLUSH_POLL_MS = 100;
const FLUSH_TIMEOUT_MS = 5_000;

/** What the monitor asks of iptables: IptablesInterface, or anything with these two calls. */
export interface CanaryChains<T extends string> {
  /** Creates the chain unless it exists. */
  ensureChain(table: T, chain: string): Promise<unknown>;
  /** Whether the chain exists; a rejection is a check that could not run. */
  chainExists(table: T, chain: string): Promise<boolean>;
}

/** Where the monitor's messages go (upstream's texts; its V(2) lines at `debug`, where there is one). */
export interface CanaryMonitorLogger {
  /** `IPTables canary deleted`, `Reloading after iptables flush`. */
  debug?(obj: object, msg?: string): void;
  /** `Inconsistent iptables state detected`. */
  info(obj: object, msg?: string): void;
  /** `Could not set up iptables canary`, `Could not check for iptables canary`. */
  error(obj: object, msg?: string): void;
}

/** What watches for a flush of the rules and has them written again. */
export interface IptablesCanaryOptions<T extends string = string> {
  /** The family's iptables. */
  client: CanaryChains<T>;
  /** The canary chain's name, created in every table of `tables`. */
  canary: string;
  /** The tables holding a canary; the first is the one checked every interval. */
  tables: readonly T[];
  /** Writes the rules again after the canary was found deleted. */
  reload: () => unknown;
  /** How often the first table's canary is checked (the kubelet: one minute; kube-proxy: its syncPeriod). */
  intervalMs: number;
  /** Drives the interval and the 100 ms polls of a flush. */
  clock: Clock;
  /** Where upstream's canary messages go. */
  logger: CanaryMonitorLogger;
}

/** A running canary monitor. */
export interface IptablesCanaryMonitor {
  /** Ends the monitor; the canary chains stay (the agents never stop their monitors). */
  stop(): void;
  /** Resolves once the monitor next waits on its clock: a test driving a FakeClock awaits it after each advance. */
  idle(): Promise<void>;
}

/**
 * utiliptables' Monitor: create the canary chain in each table (retried every interval until all
 * exist), then check every interval that the first table's one is still there. When it is gone
 * (someone flushed iptables), wait up to 5 s for the other tables' canaries to go too, so that the
 * flush, which goes one table at a time, is over before `reload` reads and writes the rules; then
 * call `reload` and start again by re-creating the canaries.
 */
export function monitorIptablesCanary<T extends string>(
  options: IptablesCanaryOptions<T>,
): IptablesCanaryMonitor {
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
      // The system clock's handle is a Node timer: the monitor alone keeps no process alive.
      (handle as { unref?: () => void } | undefined)?.unref?.();
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

async function runMonitor<T extends string>(
  options: IptablesCanaryOptions<T>,
  sleep: Sleep,
  running: () => boolean,
): Promise<void> {
  while (running()) {
    while (running() && !(await ensureCanaries(options))) await sleep(options.intervalMs);
    if (!running()) return;
    await sleep(options.intervalMs);
    while (running() && !(await canaryDeleted(options, sleep))) await sleep(options.intervalMs);
    if (!running()) return;
    options.logger.debug?.({}, 'Reloading after iptables flush');
    await options.reload();
  }
}

async function ensureCanaries<T extends string>({
  client,
  canary,
  tables,
  logger,
}: IptablesCanaryOptions<T>): Promise<boolean> {
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
async function canaryDeleted<T extends string>(
  options: IptablesCanaryOptions<T>,
  sleep: Sleep,
): Promise<boolean> {
  const { client, canary, tables, logger } = options;
  const [first, ...rest] = tables;
  if (first === undefined) return false;
  try {
    if (await client.chainExists(first, canary)) return false;
  } catch (error) {
    logger.error({ err: String(error), table: first, chain: canary }, 'Could not check for iptables canary');
    return false;
  }
  logger.debug?.({ table: first, chain: canary }, 'IPTables canary deleted');
  for (let waited = 0; ; waited += FLUSH_POLL_MS) {
    if (await allGone(client, rest, canary)) return true;
    if (waited >= FLUSH_TIMEOUT_MS) break;
    await sleep(FLUSH_POLL_MS);
  }
  logger.info({}, 'Inconsistent iptables state detected');
  return true;
}

async function allGone<T extends string>(
  client: CanaryChains<T>,
  tables: readonly T[],
  canary: string,
): Promise<boolean> {
  for (const table of tables) {
    const exists = await client.chainExists(table, canary).catch(() => true);
    if (exists) return false;
  }
  return true;
}
