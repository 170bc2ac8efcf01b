import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KubeletLogger } from '../kubelet-logger';
import { replaceFileSync } from '../replace-file';
import type { DraDeviceHealthAnswer } from './dra-plugin';

/** A device's health as container statuses report it. */
export type DeviceHealthState = 'Healthy' | 'Unhealthy' | 'Unknown';

/** How long a device's reported health holds when the driver names no timeout (upstream DefaultHealthTimeout). */
export const DRA_DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

/** The longest health message kept, in characters (the DRA health API's DeviceHealth.message). */
export const DRA_HEALTH_MESSAGE_MAX_LENGTH = 1024;

/** A device's health and the driver's message about it, as the container status reports them. */
export interface DeviceHealthReport {
  health: DeviceHealthState;
  /** '' when the driver sent none or the report went stale. */
  message: string;
}

/** The health file under --root-dir (upstream's `dra_health_state`). */
export const DRA_HEALTH_STATE_FILE = 'dra_health_state';

/** One device as upstream's state.DeviceHealth is written to the file (Go's field names). */
interface WireDeviceHealth {
  PoolName: string;
  DeviceName: string;
  Health: DeviceHealthState;
  /** RFC 3339 with nanoseconds, as Go's time.Time. */
  LastUpdated: string;
  /** time.Duration: nanoseconds; 0 is the default timeout. */
  HealthCheckTimeout: number;
  Message: string;
}

type WireHealthMap = Record<string, { Devices: Record<string, WireDeviceHealth> }>;

function toState(health: DraDeviceHealthAnswer['health']): DeviceHealthState {
  return health === 'HEALTHY' ? 'Healthy' : health === 'UNHEALTHY' ? 'Unhealthy' : 'Unknown';
}

/** Go's time.Time JSON (RFC 3339, fraction without trailing zeros). */
function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * A message past the API's 1024 characters is cut to 1021 and "..." appended, as the DeviceHealth
 * contract states, so a container status never carries an unbounded driver string.
 */
export function truncateHealthMessage(message: string): string {
  const chars = Array.from(message);
  if (chars.length <= DRA_HEALTH_MESSAGE_MAX_LENGTH) return message;
  return `${chars.slice(0, DRA_HEALTH_MESSAGE_MAX_LENGTH - 3).join('')}...`;
}

function timeoutMs(device: WireDeviceHealth): number {
  return device.HealthCheckTimeout > 0 ? device.HealthCheckTimeout / 1e6 : DRA_DEFAULT_HEALTH_TIMEOUT_MS;
}

/**
 * The devices' health the drivers' NodeWatchResources streams reported (upstream
 * healthInfoCache), kept in `<root-dir>/dra_health_state` across restarts: each report stamps
 * its devices with the time it arrived; a device not reported for longer than its health check
 * timeout (30 s by default) reads Unknown, and so does every device of a driver whose stream ended.
 */
export class DraHealthCache {
  private info: WireHealthMap = {};
  private readonly path: string;

  /** Reads the file; one that cannot be read is logged and the cache starts empty, as upstream. */
  constructor(
    rootDir: string,
    private readonly now: () => number,
    private readonly logger: KubeletLogger,
  ) {
    this.path = join(rootDir, DRA_HEALTH_STATE_FILE);
    try {
      this.info = JSON.parse(readFileSync(this.path, 'utf8')) as WireHealthMap;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.error({ err: String(error) }, 'Failed to load health checkpoint, proceeding with empty cache');
    }
  }

  /**
   * Takes one answer of a driver's stream and returns the devices whose health changed (upstream
   * updateHealthInfo): the reported ones, and those left out whose timeout has passed (Unknown now).
   */
  update(
    driver: string,
    devices: readonly DraDeviceHealthAnswer[],
  ): { poolName: string; deviceName: string }[] {
    const now = this.now();
    const entry = this.info[driver] ?? { Devices: {} };
    this.info[driver] = entry;
    const current = entry.Devices;
    const changed: { poolName: string; deviceName: string }[] = [];
    const reported = new Set<string>();
    for (const device of devices) {
      const key = `${device.poolName}/${device.deviceName}`;
      reported.add(key);
      // Upstream records the timeout in force: the driver's when positive, else the default.
      const seconds = device.healthCheckTimeoutSeconds ?? 0;
      const next: WireDeviceHealth = {
        PoolName: device.poolName,
        DeviceName: device.deviceName,
        Health: toState(device.health),
        LastUpdated: goTime(now),
        HealthCheckTimeout: (seconds > 0 ? seconds * 1000 : DRA_DEFAULT_HEALTH_TIMEOUT_MS) * 1e6,
        Message: truncateHealthMessage(device.message ?? ''),
      };
      const was = current[key];
      if (
        !was ||
        was.Health !== next.Health ||
        was.Message !== next.Message ||
        was.HealthCheckTimeout !== next.HealthCheckTimeout
      )
        changed.push({ poolName: device.poolName, deviceName: device.deviceName });
      current[key] = next;
    }
    for (const [key, device] of Object.entries(current)) {
      if (reported.has(key) || device.Health === 'Unknown') continue;
      if (now - Date.parse(device.LastUpdated) <= timeoutMs(device)) continue;
      current[key] = { ...device, Health: 'Unknown', Message: '', LastUpdated: goTime(now) };
      changed.push({ poolName: device.PoolName, deviceName: device.DeviceName });
    }
    if (changed.length > 0) this.save();
    return changed;
  }

  /** The driver's stream ended: every device of it is Unknown now. */
  clearDriver(driver: string): void {
    delete this.info[driver];
    this.save();
  }

  health(driver: string, poolName: string, deviceName: string): DeviceHealthState {
    return this.report(driver, poolName, deviceName).health;
  }

  /** The device's health with the driver's message; a stale report is Unknown without one (upstream getHealthInfo). */
  report(driver: string, poolName: string, deviceName: string): DeviceHealthReport {
    const device = this.info[driver]?.Devices[`${poolName}/${deviceName}`];
    if (!device || this.now() - Date.parse(device.LastUpdated) > timeoutMs(device))
      return { health: 'Unknown', message: '' };
    return { health: device.Health, message: device.Message ?? '' };
  }

  /** A write that fails is logged: only the health known across a restart is lost, as upstream. */
  private save(): void {
    try {
      replaceFileSync(this.path, JSON.stringify(this.info), {
        mode: 0o600,
        temporaryPath: join(dirname(this.path), `${basename(this.path)}.tmp${process.pid}`),
      });
    } catch (error) {
      this.logger.error(
        { err: String(error) },
        'Failed to save health checkpoint after update. Kubelet restart may lose the device health information.',
      );
    }
  }
}
