import { CsiNodeClient } from '@nodeagent/csi-client';

/** A registered CSI driver: where to call it and the highest CSI version it speaks. */
export interface CsiDriver {
  name: string;
  endpoint: string;
  highestSupportedVersion: string;
}

/**
 * The CSI drivers registered on this node by name (upstream csiDrivers, a DriversStore), each
 * with one client kept open while it is registered.
 */
export class CsiDrivers {
  private readonly drivers = new Map<string, { driver: CsiDriver; client: CsiNodeClient }>();

  /** @param timeoutMs each call's deadline (default the client's, upstream's csiTimeout of 2 min). */
  constructor(private readonly timeoutMs?: number) {}

  /** Registers a driver (a new registration of the same name replaces it and closes its client). */
  set(driver: CsiDriver): void {
    this.drivers.get(driver.name)?.client.close();
    this.drivers.set(driver.name, {
      driver,
      client: new CsiNodeClient({
        endpoint: driver.endpoint,
        ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
      }),
    });
  }

  /** The registered driver of that name, if any. */
  get(name: string): CsiDriver | undefined {
    return this.drivers.get(name)?.driver;
  }

  /** Forgets a driver and closes its client. */
  delete(name: string): void {
    this.drivers.get(name)?.client.close();
    this.drivers.delete(name);
  }

  /** The driver's client, or undefined when no driver of that name is registered. */
  client(name: string): CsiNodeClient | undefined {
    return this.drivers.get(name)?.client;
  }

  /** The registered drivers' names, sorted. */
  names(): string[] {
    return [...this.drivers.keys()].sort();
  }
}
