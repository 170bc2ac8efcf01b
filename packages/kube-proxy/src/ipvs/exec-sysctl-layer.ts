import { runChecked, runCommand } from '../exec/run-command';
import type { SysctlLayer } from './ipvs-kernel';

/** SysctlLayer over `sysctl`, optionally behind a prefix such as `ip netns exec ns`. */
export function execSysctlLayer(commandPrefix: readonly string[] = []): SysctlLayer {
  return {
    async get(key) {
      const r = await runCommand([...commandPrefix, 'sysctl', '-n', key]);
      return r.exitCode === 0 ? r.stdout.trim() : undefined;
    },
    async set(key, value) {
      await runChecked([...commandPrefix, 'sysctl', '-q', '-w', `${key}=${value}`]);
    },
  };
}
