import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seaTargets } from './targets.mjs';

const repo = join(import.meta.dirname, '..', '..');

/** The `Environment=` assignments of a unit file's [Service] section, by variable. */
function serviceEnvironment(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  let section = '';
  for (const raw of readFileSync(join(repo, path), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    const m = /^Environment=(\w+)=(\S*)$/.exec(line);
    if (section === '[Service]' && m) env[m[1] as string] = m[2] as string;
  }
  return env;
}

describe('deploy/systemd', () => {
  // With the variable already set the kubelet executable does not execute itself a second time
  // at start to set it (tools/sea/build.mjs, arenaReexec); the unit must set the value the
  // executable would, or a packaged node would run with another arena count than the one measured.
  const kubelet = seaTargets().find((t) => t.name === 'nodeagent-kubelet');
  it.each(['deploy/systemd/nodeagent-kubelet.service', 'deploy/systemd/kubelet.service.d/20-nodeagent.conf'])(
    "%s sets the executable's own MALLOC_ARENA_MAX",
    (path) => {
      expect(kubelet?.mallocArenaMax).toBe(1);
      expect(serviceEnvironment(path).MALLOC_ARENA_MAX).toBe(String(kubelet?.mallocArenaMax));
    },
  );
});
