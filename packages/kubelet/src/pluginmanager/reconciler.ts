import type { Clock } from '@nodeagent/primitives';
import { everyOn } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import type { ActualStateOfWorld } from './actual-state';
import type { DesiredStateOfWorld } from './desired-state';
import { PendingOperations } from './pending-operations';
import type { PluginHandler } from './plugin-handler';
import { registerPlugin, unregisterPlugin } from './registration-operations';

/** Upstream's reconciler loop period (pluginmanager.loopSleepDuration). */
export const RECONCILE_PERIOD_MS = 1_000;

/**
 * Brings the actual state to the desired one every second (upstream pluginmanager/reconciler):
 * first deregisters plugins whose socket went or was created anew, then registers the sockets not
 * registered for their current timestamp. One operation per socket at a time, with backoff.
 */
export class Reconciler {
  private readonly handlers = new Map<string, PluginHandler>();
  private readonly pending: PendingOperations;
  private stopLoop: (() => void) | undefined;

  constructor(
    private readonly dsw: DesiredStateOfWorld,
    private readonly asw: ActualStateOfWorld,
    private readonly clock: Clock,
    private readonly logger: KubeletLogger,
  ) {
    this.pending = new PendingOperations(() => clock.now());
  }

  addHandler(pluginType: string, handler: PluginHandler): void {
    this.handlers.set(pluginType, handler);
  }

  start(): void {
    this.stopLoop ??= everyOn(this.clock, RECONCILE_PERIOD_MS, () => this.reconcile());
  }

  stop(): void {
    this.stopLoop?.();
    this.stopLoop = undefined;
  }

  /** Whether a register or deregister is in flight. */
  get busy(): boolean {
    return this.pending.busy;
  }

  /** One pass: deregistrations before registrations, as upstream. */
  reconcile(): void {
    const desired = new Map(this.dsw.pluginsToRegister().map((p) => [p.socketPath, p]));
    for (const registered of this.asw.registeredPlugins()) {
      const want = desired.get(registered.socketPath);
      if (want && want.timestamp === registered.timestamp) continue;
      this.pending.run(
        registered.socketPath,
        () => unregisterPlugin(registered, this.asw),
        (err) =>
          this.logger.error(
            { err, path: registered.socketPath, pluginName: registered.name },
            'operationExecutor.UnregisterPlugin failed',
          ),
      );
    }
    for (const plugin of desired.values()) {
      if (this.asw.pluginExistsWithCorrectTimestamp(plugin)) continue;
      // A socket still registered under an older timestamp is deregistered first (above).
      if (this.asw.pluginExists(plugin.socketPath)) continue;
      this.pending.run(
        plugin.socketPath,
        () => registerPlugin(plugin, this.handlers, this.asw),
        (err) =>
          this.logger.error({ err, path: plugin.socketPath }, 'operationExecutor.RegisterPlugin failed'),
      );
    }
  }
}
