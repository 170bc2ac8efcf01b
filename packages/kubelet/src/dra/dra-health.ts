import type { DraDeviceHealthAnswer } from './dra-plugin';

/** A device's health as container statuses report it. */
export type DeviceHealthState = 'Healthy' | 'Unhealthy' | 'Unknown';

/** How long a device's reported health holds when the driver names no timeout (upstream DefaultHealthTimeout). */
export const DRA_DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

interface DeviceHealthEntry {
  health: DeviceHealthState;
  /** When the driver last determined it (ms). */
  lastUpdatedMs: number;
  timeoutMs: number;
}

function toState(health: DraDeviceHealthAnswer['health']): DeviceHealthState {
  return health === 'HEALTHY' ? 'Healthy' : health === 'UNHEALTHY' ? 'Unhealthy' : 'Unknown';
}

/**
 * The devices' health the drivers' NodeWatchResources streams last reported (upstream
 * healthInfoCache, kept in memory): a device not reported within its health check timeout, or
 * whose driver's stream ended, reads Unknown.
 */
export class DraHealthCache {
  private readonly drivers = new Map<string, Map<string, DeviceHealthEntry>>();

  constructor(private readonly now: () => number) {}

  /**
   * Takes one answer (the driver's whole list) and returns the devices whose health changed: a
   * device left out of the answer turns Unknown.
   */
  update(
    driver: string,
    devices: readonly DraDeviceHealthAnswer[],
  ): { poolName: string; deviceName: string }[] {
    const before = this.drivers.get(driver) ?? new Map<string, DeviceHealthEntry>();
    const after = new Map<string, DeviceHealthEntry>();
    const changed: { poolName: string; deviceName: string }[] = [];
    for (const device of devices) {
      const key = `${device.poolName}/${device.deviceName}`;
      const timeoutSeconds = device.healthCheckTimeoutSeconds ?? 0;
      after.set(key, {
        health: toState(device.health),
        lastUpdatedMs: device.lastUpdatedTime * 1000,
        timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : DRA_DEFAULT_HEALTH_TIMEOUT_MS,
      });
    }
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(key)?.health ?? 'Unknown';
      const is = after.get(key)?.health ?? 'Unknown';
      if (was !== is) {
        const [poolName = '', deviceName = ''] = key.split('/');
        changed.push({ poolName, deviceName });
      }
    }
    this.drivers.set(driver, after);
    return changed;
  }

  /** The driver's stream ended: every device of it is Unknown now. */
  clearDriver(driver: string): void {
    this.drivers.delete(driver);
  }

  health(driver: string, poolName: string, deviceName: string): DeviceHealthState {
    const entry = this.drivers.get(driver)?.get(`${poolName}/${deviceName}`);
    if (!entry) return 'Unknown';
    return this.now() - entry.lastUpdatedMs > entry.timeoutMs ? 'Unknown' : entry.health;
  }
}
