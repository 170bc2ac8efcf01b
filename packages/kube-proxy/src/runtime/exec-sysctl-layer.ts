import { CommandFailedError, runCommand } from '@nodeagent/primitives';
import type { SysctlLayer } from './sysctl-layer';

/**
 * SysctlLayer over the `sysctl` binary behind a prefix such as `ip netns exec ns`: for a caller
 * acting on another namespace than its own (tests). The daemon uses procSysctlLayer.
 */
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
      const argv = [...commandPrefix, 'sysctl', '-q', '-w', ...values.map(([k, v]) => `${k}=${v}`)];
      const r = await runCommand(argv);
      // procps' sysctl exits 0 when the kernel refuses a write (EINVAL for nf_conntrack_max outside
      // the initial network namespace) and only says so on stderr: any complaint is a failure, so
      // callers never act as if the value were set (and, say, resize the global conntrack table).
      if (r.exitCode !== 0 || r.stderr.trim() !== '')
        throw new CommandFailedError(argv, r.exitCode, r.stderr);
    },
  };
}
