import { runChecked, runCommand } from '../exec/run-command';
import type { SysctlLayer } from './ipvs-kernel';

/** SysctlLayer over `sysctl`, optionally behind a prefix such as `ip netns exec ns`. */
export function execSysctlLayer(commandPrefix: readonly string[] = []): SysctlLayer {
  return {
    async get(keys) {
      // Without -n, each line names its key, so missing keys (an error on stderr) do not shift values.
      const r = await runCommand([...commandPrefix, 'sysctl', ...keys]);
      const out = new Map<string, string>();
      for (const line of r.stdout.split('\n')) {
        const m = /^(\S+)\s*=\s*(.*)$/.exec(line.trim());
        if (m) out.set(m[1]!, m[2]!);
      }
      return out;
    },
    async set(values) {
      if (values.length === 0) return;
      await runChecked([...commandPrefix, 'sysctl', '-q', '-w', ...values.map(([k, v]) => `${k}=${v}`)]);
    },
  };
}
