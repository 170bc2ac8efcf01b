import { CommandFailedError, type CommandRunner, localRunner } from '@nodeagent/primitives';
import type { IpsetLayer, IpsetState } from './ipvs-kernel';

/** Parses `ipset save` output (create and add lines) into sets. */
export function parseIpsetSave(text: string): Map<string, IpsetState> {
  const sets = new Map<string, IpsetState>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'create' && parts[1] && parts[2])
      sets.set(parts[1], { type: parts[2], entries: new Set() });
    else if (parts[0] === 'add' && parts[1] && parts[2]) sets.get(parts[1])?.entries.add(parts[2]);
  }
  return sets;
}

/**
 * IpsetLayer over the `ipset` tool, optionally behind a prefix such as `ip netns exec ns`;
 * `runner` starts each command (tests record them).
 */
export function execIpsetLayer(
  commandPrefix: readonly string[] = [],
  runner: CommandRunner = localRunner,
): IpsetLayer {
  const ipset = async (args: readonly string[], input?: string): Promise<string> => {
    const argv = [...commandPrefix, 'ipset', ...args];
    const r = await runner.run(argv[0]!, argv.slice(1), input === undefined ? {} : { input });
    if (r.exitCode !== 0) throw new CommandFailedError(argv, r.exitCode, r.stderr, r.stdout);
    return r.stdout;
  };
  return {
    async save() {
      return parseIpsetSave(await ipset(['save']));
    },
    async restore(script) {
      if (script.trim() === '') return;
      await ipset(['restore', '-exist'], script);
    },
    async destroy(names) {
      // One process for them all; -exist passes over a set that is already gone.
      if (names.length === 0) return;
      await ipset(['restore', '-exist'], names.map((n) => `destroy ${n}\n`).join(''));
    },
  };
}
