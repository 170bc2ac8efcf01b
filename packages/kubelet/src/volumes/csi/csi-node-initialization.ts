import { Backoff, type BackoffOptions, type Clock, systemClock } from '@nodeagent/primitives';
import { sleepOn } from '../../clock-timers';
import type { KubeletLogger } from '../../kubelet-logger';

/** How often the API server is asked again while it cannot be reached (upstream: every second). */
const REACHABLE_POLL_MS = 1_000;

/** Go's wait.Backoff: its sleeps (primitives' Backoff, uncapped, never reset) and how many tries in all. */
interface TriesBackoff {
  sleeps: Pick<BackoffOptions, 'initialMs' | 'factor' | 'jitter'>;
  steps: number;
}

/** initializeCSINode's outer backoff: six tries, 15 ms growing sixfold (about 23 s of sleeps). */
const INIT_BACKOFF: TriesBackoff = { sleeps: { initialMs: 15, factor: 6, jitter: 0.1 }, steps: 6 };
/** InitializeCSINodeWithAnnotation's own: four tries, 10 ms growing fivefold. */
const UPDATE_BACKOFF: TriesBackoff = { sleeps: { initialMs: 10, factor: 5, jitter: 0.1 }, steps: 4 };

/** What wait.ExponentialBackoff returns when every try failed. */
const WAIT_TIMEOUT = 'timed out waiting for the condition';

/** The CSINode at start, through the API server (apiCsiNodeInfo); a kubelet without one has none. */
export interface CsiNodeInitializer {
  /** Resolves once the API server answers a read of this node's CSINode (found or not). */
  reachable(): Promise<void>;
  /**
   * One try of upstream's InitializeCSINodeWithAnnotation: creates this node's CSINode when it is
   * missing (owned by the Node, which must exist), or sets its migrated-plugins annotation.
   */
  initialize(): Promise<void>;
}

/** What the CSINode set-up at start needs: this node's CSINode seam, a logger, and seams for tests. */
export interface CsiNodeInitializationOptions {
  nodeInfo: CsiNodeInitializer;
  logger: KubeletLogger;
  clock?: Clock;
  /** Ends the process (default process.exit); upstream's klog.Fatalf exits with 255. */
  exit?: (code: number) => void;
  /** Go's jitter draw in [0, 1) (default Math.random). */
  random?: () => number;
}

/**
 * Upstream's initializeCSINode (pkg/volume/csi): from the kubelet's start until this node's
 * CSINode exists with the migrated-plugins annotation, the node is not Ready ("CSINode is not yet
 * initialized", then the last failure). It waits for the API server as long as it takes, then
 * tries with a backoff; when every try failed it logs and ends the process so that its
 * supervisor starts it again, as upstream's kubelet does.
 */
export class CsiNodeInitialization {
  private error: string | undefined = 'CSINode is not yet initialized';
  private stopped = false;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: CsiNodeInitializationOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /** Why the node is not Ready on storage's account (upstream's storageErrors), if it is not. */
  storageError(): string | undefined {
    return this.error;
  }

  /** Starts the initialization in the background; resolves when it ended (done, stopped or given up). */
  start(): Promise<void> {
    return this.run();
  }

  /** Stops it where it waits (the kubelet is stopping). */
  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    await this.waitForApiServer();
    let last = '';
    const done = await this.backoff(INIT_BACKOFF, async () => {
      try {
        await this.initializeWithAnnotation();
        this.error = undefined;
        return true;
      } catch (e) {
        last = messageOf(e);
        this.error = `failed to initialize CSINode: ${last}`;
        logger.error({ err: last }, `Failed to initialize CSINode: ${last}`);
        return false;
      }
    });
    if (done || this.stopped) return;
    logger.error({ err: WAIT_TIMEOUT }, `Failed to initialize CSINode after retrying: ${WAIT_TIMEOUT}`);
    (this.options.exit ?? ((code) => process.exit(code)))(255);
  }

  /** Upstream's waitForAPIServerForever: a read of this node's CSINode every second until one is answered. */
  private async waitForApiServer(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.options.nodeInfo.reachable();
        return;
      } catch {
        // Upstream logs this only at verbosity 2.
      }
      await sleepOn(this.clock, REACHABLE_POLL_MS);
    }
  }

  /** Upstream's InitializeCSINodeWithAnnotation: one call, up to four tries. */
  private async initializeWithAnnotation(): Promise<void> {
    let last = '';
    const done = await this.backoff(UPDATE_BACKOFF, async () => {
      try {
        await this.options.nodeInfo.initialize();
        return true;
      } catch (e) {
        last = messageOf(e);
        return false;
      }
    });
    if (!done) throw new Error(`error updating CSINode annotation: ${WAIT_TIMEOUT}; caused by: ${last}`);
  }

  /** Go's wait.ExponentialBackoff on the clock: true once `tryOnce` succeeds, false when out of tries. */
  private async backoff(backoff: TriesBackoff, tryOnce: () => Promise<boolean>): Promise<boolean> {
    const sleeps = new Backoff({
      ...backoff.sleeps,
      maxMs: Number.POSITIVE_INFINITY,
      resetAfterMs: Number.POSITIVE_INFINITY,
      random: this.random,
    });
    for (let step = backoff.steps; step > 0 && !this.stopped; step--) {
      if (await tryOnce()) return true;
      if (step === 1) break;
      await sleepOn(this.clock, sleeps.next());
    }
    return false;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
