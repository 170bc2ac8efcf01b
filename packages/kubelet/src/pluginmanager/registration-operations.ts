import { RegistrationV1Client } from '@nodeagent/plugin-api';
import { CodedError } from '@nodeagent/primitives';
import type { ActualStateOfWorld, RegisteredPlugin } from './actual-state';
import type { PluginToRegister } from './desired-state';
import type { PluginHandler } from './plugin-handler';

/** A registration that failed, with upstream's message (`RegisterPlugin error -- ...`). */
export class PluginRegistrationError extends CodedError {
  constructor(
    message: string,
    readonly socketPath: string,
    options?: ErrorOptions,
  ) {
    super('PLUGIN_REGISTRATION_FAILED', message, options);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Register the plugin behind one socket, as upstream's operation generator does: GetInfo, pick the
 * handler by the plugin's type, validate, add to the actual state, register, then tell the plugin
 * (NotifyRegistrationStatus) whether it is registered. Throws PluginRegistrationError with
 * upstream's message when any step fails; the plugin is told why whenever it can be.
 */
export async function registerPlugin(
  plugin: PluginToRegister,
  handlers: ReadonlyMap<string, PluginHandler>,
  asw: ActualStateOfWorld,
): Promise<void> {
  const { socketPath } = plugin;
  const client = new RegistrationV1Client(socketPath);
  try {
    let info: Awaited<ReturnType<RegistrationV1Client['getInfo']>>;
    try {
      info = await client.getInfo();
    } catch (e) {
      throw new PluginRegistrationError(
        `RegisterPlugin error -- failed to get plugin info using RPC GetInfo at socket ${socketPath}, err: ${errText(e)}`,
        socketPath,
        { cause: e },
      );
    }
    const notify = async (registered: boolean, error: string): Promise<void> => {
      try {
        await client.notifyRegistrationStatus({ pluginRegistered: registered, error });
      } catch (e) {
        throw new PluginRegistrationError(
          registered
            ? `RegisterPlugin error -- failed to send registration status at socket ${socketPath}, err: ${errText(e)}`
            : `RegisterPlugin error -- failed to send error at socket ${socketPath}, err: ${error}: ${errText(e)}`,
          socketPath,
          { cause: e },
        );
      }
      if (error) throw new PluginRegistrationError(error, socketPath);
    };
    const handler = handlers.get(info.type);
    if (!handler) {
      await notify(
        false,
        `RegisterPlugin error -- no handler registered for plugin type: ${info.type} at socket ${socketPath}`,
      );
      return;
    }
    const endpoint = info.endpoint || socketPath;
    try {
      await handler.validatePlugin(info.name, endpoint, info.supportedVersions);
    } catch (e) {
      await notify(false, `RegisterPlugin error -- plugin validation failed with err: ${errText(e)}`);
      return;
    }
    const registered: RegisteredPlugin = {
      socketPath,
      timestamp: plugin.timestamp,
      name: info.name,
      endpoint,
      handler,
    };
    asw.addPlugin(registered);
    try {
      await handler.registerPlugin(info.name, endpoint, info.supportedVersions);
    } catch (e) {
      await notify(false, `RegisterPlugin error -- plugin registration failed with err: ${errText(e)}`);
      return;
    }
    await notify(true, '');
  } finally {
    client.close();
  }
}

/** Deregister a plugin whose socket went (or was created again): out of the actual state first, then its handler. */
export async function unregisterPlugin(plugin: RegisteredPlugin, asw: ActualStateOfWorld): Promise<void> {
  asw.removePlugin(plugin.socketPath);
  await plugin.handler.deregisterPlugin(plugin.name, plugin.endpoint);
}
