import { type CommandRunner, localRunner } from '@nodeagent/netfilter';

/**
 * A netfilter CommandRunner that starts every tool behind `prefix` (e.g.
 * `['ip', 'netns', 'exec', 'ns1']`), so an IptablesClient acts where execIptables's
 * `commandPrefix` points. An empty prefix runs the tools directly.
 */
export function prefixedRunner(prefix: readonly string[], base: CommandRunner = localRunner): CommandRunner {
  if (prefix.length === 0) return base;
  return {
    run: (file, args, options) => base.run(prefix[0]!, [...prefix.slice(1), file, ...args], options),
  };
}
