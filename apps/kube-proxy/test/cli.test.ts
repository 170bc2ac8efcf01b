import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli as bundledCli } from './daemon-process';

// The real entry point, bundled from the sources: argv handling and exit codes.
const root = join(import.meta.dirname, '..');

function cli(args: string[]) {
  return spawnSync(process.execPath, [bundledCli, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('nodeagent-kube-proxy binary', { timeout: 60_000 }, () => {
  it('renders a fixture and exits 0', () => {
    const r = cli(['render', join(root, 'test', 'fixtures', 'cluster.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('COMMIT');
    expect(r.stdout).toContain('KUBE-SVC-');
  });

  it('--version prints exactly the one line kubeadm parses', () => {
    const r = cli(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('Kubernetes v1.36.3\n');
  });

  it('exits 1 with one line naming the flag and the value on an invalid flag value', () => {
    const r = cli(['render', '--iptables-min-sync-period', 'soon']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'invalid configuration: --iptables-min-sync-period: invalid value "soon": not a duration (e.g. "5s", "1m", "2h22m")\n',
    );
  });
});
