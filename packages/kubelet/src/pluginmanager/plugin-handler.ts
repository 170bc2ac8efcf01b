/**
 * The plugin types a registration socket may name in GetInfo's `type` (upstream
 * k8s.io/kubelet/pkg/apis/pluginregistration/v1 constants).
 */
export const CSI_PLUGIN = 'CSIPlugin';
export const DRA_PLUGIN = 'DRAPlugin';
export const DEVICE_PLUGIN = 'DevicePlugin';

/**
 * What a consumer of one plugin type gives the plugin manager (upstream
 * pluginmanager/cache.PluginHandler). For each socket the manager calls, strictly in order:
 * `validatePlugin`, then `registerPlugin` if that passed, then `deregisterPlugin` once the socket
 * is gone (or replaced: a socket created again under the same path is deregistered first). A
 * throw from `validatePlugin` or `registerPlugin` is sent to the plugin as its registration
 * error (NotifyRegistrationStatus); the message is the error's message.
 *
 * - `name`: the plugin's name from GetInfo (a CSI driver name, a DRA driver name).
 * - `endpoint`: the plugin's service socket (GetInfo's endpoint, or the registration socket
 *   when that was empty).
 * - `versions`: GetInfo's supported_versions.
 */
export interface PluginHandler {
  /** Checks a plugin before it is registered; a throw refuses it. */
  validatePlugin(name: string, endpoint: string, versions: readonly string[]): void | Promise<void>;
  /** Registers a validated plugin; a throw fails its registration. */
  registerPlugin(name: string, endpoint: string, versions: readonly string[]): Promise<void>;
  /** Deregisters a plugin whose socket is gone or was replaced. */
  deregisterPlugin(name: string, endpoint: string): void | Promise<void>;
}
