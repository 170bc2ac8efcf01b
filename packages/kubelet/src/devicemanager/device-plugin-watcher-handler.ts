import type { PluginHandler } from '../pluginmanager/plugin-handler';
import { devicePluginApiVersion } from './deviceplugin-api';
import { invalidResourceName } from './registration-server';

/** What the handler asks of the device manager: the same connection a Register request makes. */
export interface DevicePluginConnections {
  /** Connects the plugin serving `resource` at `socketPath`, as a Register request does. */
  connectPlugin(resource: string, socketPath: string): Promise<void>;
  /** Treats the plugin serving `resource` as gone. */
  disconnectPlugin(resource: string): void;
}

/**
 * The `DevicePlugin` handler of the plugin manager (upstream's devicemanager plugin server as a
 * cache.PluginHandler): a device plugin that puts a registration socket in `plugins_registry`
 * instead of calling kubelet.sock is validated (v1beta1 among its versions, an extended resource
 * name) and connected at the endpoint it names; its socket going disconnects it.
 */
export class DevicePluginWatcherHandler implements PluginHandler {
  constructor(private readonly plugins: DevicePluginConnections) {}

  validatePlugin(name: string, _endpoint: string, versions: readonly string[]): void {
    if (!versions.includes(devicePluginApiVersion))
      throw new Error(
        `manager version, ${devicePluginApiVersion}, is not among plugin supported versions [${versions.join(' ')}]`,
      );
    const invalid = invalidResourceName(name);
    if (invalid) throw new Error(`invalid name of device plugin socket: ${invalid}`);
  }

  registerPlugin(name: string, endpoint: string): Promise<void> {
    return this.plugins.connectPlugin(name, endpoint);
  }

  deregisterPlugin(name: string): void {
    this.plugins.disconnectPlugin(name);
  }
}
