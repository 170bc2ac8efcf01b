/** A socket found in the registration directory, stamped with when it was (last) seen created. */
export interface PluginToRegister {
  socketPath: string;
  timestamp: number;
}

/**
 * The sockets that should be registered (upstream pluginmanager/cache.DesiredStateOfWorld): the
 * watcher adds a socket when it appears and removes it when it goes. A socket created again under
 * the same path gets a new timestamp, which the reconciler reads as "deregister, then register".
 */
export class DesiredStateOfWorld {
  private readonly plugins = new Map<string, PluginToRegister>();
  private lastStamp = 0;

  constructor(private readonly now: () => number) {}

  addOrUpdatePlugin(socketPath: string): void {
    // Strictly increasing, so two creations within one clock tick still differ.
    this.lastStamp = Math.max(this.now(), this.lastStamp + 1);
    this.plugins.set(socketPath, { socketPath, timestamp: this.lastStamp });
  }

  removePlugin(socketPath: string): void {
    this.plugins.delete(socketPath);
  }

  pluginExists(socketPath: string): boolean {
    return this.plugins.has(socketPath);
  }

  pluginsToRegister(): PluginToRegister[] {
    return [...this.plugins.values()];
  }
}
