import { type Clock, CodedError } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import type { PluginHandler } from '../pluginmanager/plugin-handler';
import type { DraMetrics } from './dra-metrics';
import {
  DRA_HEALTH_SERVICE,
  DRA_SERVICES_SUPPORTED,
  type DraDeviceHealthAnswer,
  type DraHealthStream,
  DraPlugin,
  type DraPluginConnector,
  type DraService,
} from './dra-plugin';
import { DRA_WIPING_DELAY_MS, type ResourceSliceWiper } from './resource-slice-wiper';

/** How soon a health stream that ended is opened again (upstream's wait.UntilWithContext period). */
export const DRA_HEALTH_STREAM_RETRY_MS = 5000;

/** A driver is not registered: its pods wait (upstream GetPlugin's error, also the event's text). */
export class DraDriverNotRegisteredError extends CodedError {
  constructor(readonly driverName: string) {
    super(
      'DRA_DRIVER_NOT_REGISTERED',
      driverName ? `DRA driver ${driverName} is not registered` : 'DRA driver name is empty',
    );
  }
}

/** Go's %q of a []string: `["a" "b"]`. */
function goQuotedList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/**
 * The first of the plugin's services this kubelet speaks, in the plugin's order (upstream
 * validateSupportedServices). Throws upstream's message when none is.
 */
export function chooseDraService(supportedServices: readonly string[]): DraService {
  if (supportedServices.length === 0)
    throw new Error('empty list of supported gRPC services (aka supported versions)');
  const chosen = supportedServices.find((s): s is DraService =>
    (DRA_SERVICES_SUPPORTED as readonly string[]).includes(s),
  );
  if (!chosen)
    throw new Error(
      `none of services supported by the plugin (${goQuotedList(supportedServices)}) are supported by the kubelet (${goQuotedList(DRA_SERVICES_SUPPORTED)})`,
    );
  return chosen;
}

/** Where health answers go: the manager's health cache (upstream's StreamHandler). */
export interface DraHealthHandler {
  /** One answer of a driver's stream: all its devices. */
  onHealth(driverName: string, devices: DraDeviceHealthAnswer[]): void;
  /** The driver's stream ended: its devices' health is no longer known. */
  onHealthEnd(driverName: string): void;
}

/** What a DraPluginManager is built from. */
export interface DraPluginManagerOptions {
  connector: DraPluginConnector;
  metrics: DraMetrics;
  clock: Clock;
  logger: KubeletLogger;
  /** Without one (no API server) no ResourceSlice is wiped. */
  wiper?: ResourceSliceWiper;
  wipingDelayMs?: number;
  /** The ResourceHealthStatus gate: health streams are opened only with it on. */
  health?: DraHealthHandler;
  callTimeoutMs?: number;
}

interface RegisteredDraPlugin {
  plugin: DraPlugin;
  /** Whether its gRPC connection is up (upstream monitoredPlugin.connected). */
  connected: boolean;
  stream?: DraHealthStream;
  retry?: unknown;
  removed: boolean;
}

/**
 * The DRAPlugin handler of the plugin manager (upstream DRAPluginManager): validates a driver's
 * services (v1.DRAPlugin preferred where the driver lists it first, v1beta1.DRAPlugin accepted),
 * connects to its endpoint, opens its health stream when the driver offers
 * v1alpha1.DRAResourceHealth and the gate is on, and hands out the newest plugin of a driver.
 * When a driver's last plugin goes, its ResourceSlices of this node are deleted after the wiping
 * delay unless it registers again first.
 */
export class DraPluginManager implements PluginHandler {
  private readonly store = new Map<string, RegisteredDraPlugin[]>();
  private stopped = false;

  constructor(private readonly options: DraPluginManagerOptions) {}

  validatePlugin(name: string, endpoint: string, versions: readonly string[]): void {
    this.options.logger.info(
      { pluginName: name, endpoint, versions: versions.join(',') },
      'Validate DRA plugin',
    );
    try {
      chooseDraService(versions);
    } catch (error) {
      throw new Error(
        `invalid supported gRPC versions of DRA driver plugin ${name} at endpoint ${endpoint}: ${(error as Error).message}`,
      );
    }
  }

  async registerPlugin(name: string, endpoint: string, versions: readonly string[]): Promise<void> {
    let service: DraService;
    try {
      service = chooseDraService(versions);
    } catch (error) {
      throw new Error(
        `invalid supported gRPC versions of DRA driver plugin ${name} at endpoint ${endpoint}: ${(error as Error).message}`,
      );
    }
    const plugins = this.store.get(name) ?? [];
    // One plugin instance cannot hijack the endpoint of another instance.
    if (plugins.some((p) => p.plugin.endpoint === endpoint))
      throw new Error(`endpoint ${endpoint} already registered for DRA driver plugin ${name}`);
    const { connector, metrics, clock } = this.options;
    const plugin = new DraPlugin(
      name,
      endpoint,
      service,
      connector(endpoint, service),
      metrics,
      clock,
      this.options.callTimeoutMs,
    );
    const connection = plugin.connection;
    const entry: RegisteredDraPlugin = { plugin, connected: !connection.watchConnected, removed: false };
    plugins.push(entry);
    this.store.set(name, plugins);
    connection.watchConnected?.((connected) => {
      if (entry.removed || entry.connected === connected) return;
      entry.connected = connected;
      this.options.logger.info({ driverName: name, endpoint, connected }, 'Connection changed');
      this.sync(name);
    });
    this.options.logger.info(
      { driverName: name, endpoint, chosenService: service, numPlugins: plugins.length },
      'Registered DRA plugin',
    );
    this.sync(name);
    if (this.options.health && versions.includes(DRA_HEALTH_SERVICE)) this.openHealthStream(entry);
  }

  deregisterPlugin(name: string, endpoint: string): void {
    const plugins = this.store.get(name) ?? [];
    const index = plugins.findIndex((p) => p.plugin.endpoint === endpoint);
    if (index === -1) return;
    const [entry] = plugins.splice(index, 1);
    this.close(entry!);
    if (plugins.length === 0) this.store.delete(name);
    this.sync(name);
    this.options.logger.info(
      { driverName: name, endpoint, numPlugins: plugins.length },
      'Unregistered DRA plugin',
    );
  }

  /**
   * The driver's newest connected plugin, else its newest (upstream GetPlugin); throws
   * DraDriverNotRegisteredError.
   */
  getPlugin(driverName: string): DraPlugin {
    const plugins = (driverName ? this.store.get(driverName) : undefined) ?? [];
    const chosen = plugins.findLast((p) => p.connected) ?? plugins[plugins.length - 1];
    if (!chosen) throw new DraDriverNotRegisteredError(driverName);
    return chosen.plugin;
  }

  /**
   * Upstream sync: a driver with a connected plugin keeps its ResourceSlices (a pending wipe is
   * cancelled); one without gets them wiped after the wiping delay (it may only be restarting),
   * a wipe already pending keeping its time.
   */
  private sync(driverName: string): void {
    const wiper = this.options.wiper;
    if (!wiper) return;
    if ((this.store.get(driverName) ?? []).some((p) => p.connected)) wiper.cancel(driverName);
    else wiper.schedule(driverName, this.options.wipingDelayMs ?? DRA_WIPING_DELAY_MS);
  }

  /** The drivers registered now. */
  drivers(): string[] {
    return [...this.store.keys()];
  }

  /** Closes every connection and stream (the kubelet stops). */
  stop(): void {
    this.stopped = true;
    for (const plugins of this.store.values()) for (const entry of plugins) this.close(entry);
    this.store.clear();
  }

  private close(entry: RegisteredDraPlugin): void {
    entry.removed = true;
    if (entry.retry !== undefined) this.options.clock.clearTimeout(entry.retry);
    entry.stream?.cancel();
    entry.plugin.connection.close();
  }

  /** NodeWatchResources, opened again 5 s after it ends while the plugin stays registered. */
  private openHealthStream(entry: RegisteredDraPlugin): void {
    const health = this.options.health!;
    const driver = entry.plugin.driverName;
    entry.stream = entry.plugin.connection.watchResources(
      (devices) => health.onHealth(driver, devices),
      (error) => {
        entry.stream = undefined;
        health.onHealthEnd(driver);
        if (entry.removed || this.stopped) return;
        this.options.logger.info(
          { driverName: driver, err: error && String(error) },
          'WatchResources health stream has ended',
        );
        entry.retry = this.options.clock.setTimeout(() => {
          entry.retry = undefined;
          if (!entry.removed && !this.stopped) this.openHealthStream(entry);
        }, DRA_HEALTH_STREAM_RETRY_MS);
        unrefTimer(entry.retry);
      },
    );
  }
}
