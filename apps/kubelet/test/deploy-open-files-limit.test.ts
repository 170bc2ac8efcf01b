import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultKubeletConfiguration } from '@nodeagent/kubelet/config';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..', '..');

/** A unit file's `LimitNOFILE=` in its [Service] section. */
function limitNofile(path: string): string | undefined {
  let section = '';
  let value: string | undefined;
  for (const raw of readFileSync(join(repo, path), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    const m = /^LimitNOFILE=(.*)$/.exec(line);
    if (section === '[Service]' && m) value = m[1];
  }
  return value;
}

// The kubelet sets RLIMIT_NOFILE to maxOpenFiles at start (upstream's rlimit.SetNumFiles) and
// skips the call, and loading koffi for it, when the limit already holds: the shipped units give
// it that limit.
describe('deploy/systemd', () => {
  it.each(['deploy/systemd/nodeagent-kubelet.service', 'deploy/systemd/kubelet.service.d/20-nodeagent.conf'])(
    "%s gives the kubelet maxOpenFiles' default as its open-files limit",
    (path) => {
      expect(defaultKubeletConfiguration().maxOpenFiles).toBe(1_000_000);
      expect(limitNofile(path)).toBe(String(defaultKubeletConfiguration().maxOpenFiles));
    },
  );
});
