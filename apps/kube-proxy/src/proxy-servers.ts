import { HealthzServer, KubeProxyError, type KubeProxyMetrics, MetricsServer } from '@nodeagent/kube-proxy';
import { serveProfiling, splitHostPort } from '@nodeagent/kube-proxy/runtime';
import { type Clock, goListenError, keepTrying } from '@nodeagent/primitives';
import type { Logger } from 'pino';
import type { DaemonSettings } from './daemon-settings';
import type { SyncEndSignallingHealth } from './sync-end-signal';

/** Upstream's pause between two attempts to start the healthz or metrics server (wait.Until). */
export const SERVER_RETRY_MS = 5_000;

/** A server's bind address could not be bound with --bind-address-hard-fail: upstream exits 1. */
export class BindFailedError extends KubeProxyError {
  constructor(setting: string, reason: string) {
    super('BIND_FAILED', `${setting}: ${reason}`);
  }
}

/**
 * Each server as upstream reports its failure: the setting, the log line's message and error
 * (serveHealthz's "Healthz server failed", serveMetrics' utilruntime.HandleError) and the error
 * its hard-fail channel carries.
 */
const SERVERS = {
  healthz: {
    field: 'healthzBindAddress',
    flag: '--healthz-bind-address',
    message: 'Healthz server failed',
    err: (address: string, listen: string) => `failed to start proxy healthz on ${address}: ${listen}`,
    fatal: (err: string) => `healthz server failed: ${err}`,
  },
  metrics: {
    field: 'metricsBindAddress',
    flag: '--metrics-bind-address',
    message: 'Unhandled Error',
    err: (_address: string, listen: string) => `starting metrics server failed: ${listen}`,
    fatal: (err: string) => err,
  },
} as const;

/** What a server needs to start: its bind address and its start. */
interface Startable {
  address: string;
  start(): Promise<unknown>;
  close(): Promise<void>;
}

/** Upstream's error for a server that could not listen on its bind address. */
function failure(which: keyof typeof SERVERS, address: string, error: unknown): string {
  const { host, port } = splitHostPort(address);
  return SERVERS[which].err(address, goListenError(error, host, port));
}

/**
 * Starts one server as upstream does: with --bind-address-hard-fail a bind failure stops the
 * proxy (BindFailedError); without it the failure is logged and the server tried again every
 * 5 s while the proxy runs on. Returns its closer (which also ends the attempts).
 */
async function startServer(
  which: keyof typeof SERVERS,
  server: Startable,
  s: DaemonSettings,
  log: Logger,
  clock?: Clock,
): Promise<() => Promise<void>> {
  const { field, flag, message, fatal } = SERVERS[which];
  if (s.bindAddressHardFail) {
    await server.start().catch((error: unknown) => {
      throw new BindFailedError(`${field} (${flag})`, fatal(failure(which, server.address, error)));
    });
    return () => server.close();
  }
  const attempts = keepTrying(() => server.start(), {
    intervalMs: SERVER_RETRY_MS,
    clock,
    onError: (error) => log.error({ err: failure(which, server.address, error), field }, message),
  });
  return async () => {
    await attempts.stop();
    await server.close();
  };
}

/** What the healthz and metrics servers report. */
export interface ServerSources {
  metrics: KubeProxyMetrics;
  health: SyncEndSignallingHealth;
}

/**
 * The healthz and metrics servers, when their bind addresses are set; their closers go to
 * `closers`.
 */
export async function startServers(
  s: DaemonSettings,
  { metrics, health }: ServerSources,
  closers: (() => Promise<void>)[],
  log: Logger,
  clock?: Clock,
): Promise<void> {
  if (s.healthzBindAddress) {
    const address = s.healthzBindAddress;
    const hz = new HealthzServer({
      bindAddress: address,
      health,
      onResponse: (p, c) => metrics.healthzResponse(p, c),
    });
    const server = { address, start: () => hz.start(), close: () => hz.close() };
    closers.push(await startServer('healthz', server, s, log, clock));
  }
  if (s.metricsBindAddress) {
    const address = s.metricsBindAddress;
    const ms = new MetricsServer(address, metrics, s.mode, s.profiling ? serveProfiling : undefined);
    const server = { address, start: () => ms.start(), close: () => ms.close() };
    closers.push(await startServer('metrics', server, s, log, clock));
  }
}
