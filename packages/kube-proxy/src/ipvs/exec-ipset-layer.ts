import { runChecked, runCommand } from '@nodeagent/primitives';
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

/** IpsetLayer over the `ipset` tool, optionally behind a prefix such as `ip netns exec ns`. */
export function execIpsetLayer(commandPrefix: readonly string[] = []): IpsetLayer {
  const ipset = (...args: string[]) => [...commandPrefix, 'ipset', ...args];
  return {
    async save() {
      return parseIpsetSave(await runChecked(ipset('save')));
    },
    async restore(script) {
      if (script.trim() === '') return;
      await runChecked(ipset('restore', '-exist'), { input: script });
    },
    async destroy(names) {
      for (const name of names) {
        const r = await runCommand(ipset('destroy', name));
        if (r.exitCode !== 0 && !/does not exist/.test(r.stderr)) await runChecked(ipset('destroy', name)); // throws with the command's own message
      }
    },
  };
}
