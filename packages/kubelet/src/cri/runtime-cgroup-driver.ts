import { isUnimplemented } from '@nodeagent/cri-client';
import { CgroupDriver, type RuntimeConfigResponse } from '@nodeagent/cri-client/types';
import type { Registry } from 'prom-client';
import { KubeletError } from '../errors';
import type { KubeletLogger } from '../kubelet-logger';
import { markCriLosingSupport } from './cri-losing-support';

/** A cgroup driver as KubeletConfiguration.cgroupDriver names it. */
export type CgroupDriverSetting = 'cgroupfs' | 'systemd';

/** The runtime's RuntimeConfig RPC (CriClient.runtimeConfig). */
export interface RuntimeConfigSource {
  /** The runtime's configuration; rejects with Unimplemented where the runtime lacks the RPC. */
  runtimeConfig(): Promise<RuntimeConfigResponse>;
}

/** The runtime named a cgroup driver this kubelet does not know; the kubelet does not start. */
export class UnknownRuntimeCgroupDriverError extends KubeletError {
  constructor(driver: number) {
    super(
      'UNKNOWN_CGROUP_DRIVER',
      'RuntimeConfig.linux.cgroupDriver',
      driver,
      `runtime returned an unknown cgroup driver ${driver}`,
    );
  }
}

/** Upstream's words when the runtime has no RuntimeConfig RPC (containerd before 2.0). */
export const runtimeConfigUnimplementedMessage =
  'CRI implementation should be updated to support RuntimeConfig. Falling back to using cgroupDriver from kubelet config.';

/** How many times and how far apart the kubelet asks before a failure stops it (upstream: 3, 2 s). */
export interface RuntimeCgroupDriverOptions {
  logger: KubeletLogger;
  /** Waits between attempts after an error other than Unimplemented (default 2 s on a timer). */
  sleep?: (ms: number) => Promise<void>;
  attempts?: number;
  retryDelayMs?: number;
  /** The kubelet's /metrics registry: a runtime without RuntimeConfig is counted there (kubelet_cri_losing_support). */
  registry?: Registry;
}

/**
 * The cgroup driver the kubelet runs with (KubeletCgroupDriverFromCRI, GA in 1.34): the runtime's,
 * from RuntimeConfig, over the configured one. A runtime without the RPC (Unimplemented) leaves
 * the configured driver, logged and counted on `options.registry` (kubelet_cri_losing_support);
 * a response without Linux settings too. Other errors are retried
 * (the runtime may still be starting) and the last one is thrown: upstream then does not start.
 */
export async function cgroupDriverFromRuntime(
  runtime: RuntimeConfigSource,
  configured: CgroupDriverSetting,
  options: RuntimeCgroupDriverOptions,
): Promise<CgroupDriverSetting> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  let response: RuntimeConfigResponse | undefined;
  for (let attempt = 0; attempt < attempts && response === undefined; attempt++) {
    try {
      response = await runtime.runtimeConfig();
    } catch (error) {
      if (isUnimplemented(error)) {
        options.logger.error({ err: String(error) }, 'RuntimeConfig from runtime service failed');
        if (options.registry) markCriLosingSupport(options.registry);
        options.logger.info({}, runtimeConfigUnimplementedMessage);
        return configured;
      }
      lastError = error;
      await sleep(options.retryDelayMs ?? 2000);
    }
  }
  if (response === undefined) throw lastError;
  // An absent linux message would read as SYSTEMD (0); upstream keeps the configured driver.
  if (!response.linux) return configured;
  const driver = response.linux.cgroupDriver;
  let fromRuntime: CgroupDriverSetting;
  if (driver === CgroupDriver.SYSTEMD) fromRuntime = 'systemd';
  else if (driver === CgroupDriver.CGROUPFS) fromRuntime = 'cgroupfs';
  else throw new UnknownRuntimeCgroupDriverError(driver);
  options.logger.info(
    { cgroupDriver: fromRuntime },
    'Using cgroup driver setting received from the CRI runtime',
  );
  return fromRuntime;
}
