import { Gauge, type Registry } from 'prom-client';
import type { ActualStateOfWorld } from './actual-state';
import type { DesiredStateOfWorld } from './desired-state';

/**
 * Upstream's `plugin_manager_total_plugins{socket_path, state}` (pkg/kubelet/pluginmanager/metrics,
 * ALPHA, registered without the kubelet_ prefix): one series per socket and cache,
 * `actual_state_of_world` for registered plugins, `desired_state_of_world` for sockets found.
 */
export function registerPluginManagerMetrics(
  registry: Registry,
  dsw: DesiredStateOfWorld,
  asw: ActualStateOfWorld,
): Gauge<'socket_path' | 'state'> {
  return new Gauge({
    name: 'plugin_manager_total_plugins',
    help: 'Number of plugins in Plugin Manager',
    labelNames: ['socket_path', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of asw.registeredPlugins())
        this.inc({ socket_path: p.socketPath, state: 'actual_state_of_world' });
      for (const p of dsw.pluginsToRegister())
        this.inc({ socket_path: p.socketPath, state: 'desired_state_of_world' });
    },
  });
}
