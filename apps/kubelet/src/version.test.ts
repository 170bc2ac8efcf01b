import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { goArch, rawVersionText, versionText } from './version';

// Beside the source: --version is part of the binary's src/ (its test/ belongs to its author).
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('nodeagent-kubelet --version', { timeout: 60_000 }, () => {
  it('--version is the one line kubeadm parses; --version=raw names this binary', () => {
    expect(versionText()).toBe('Kubernetes v1.36.3');
    expect(
      rawVersionText('nodeagent-kubelet', {
        version: '9.8.7',
        nodeVersion: 'v22.0.0',
        platform: 'darwin',
        arch: 'x64',
      }),
    ).toMatch(
      /^version\.Info\{Major:"1", Minor:"36", GitVersion:"v1\.36\.3".*\}\nnodeagent-kubelet v9\.8\.7 \(node v22\.0\.0, darwin\/amd64\)$/,
    );
    expect(goArch('arm64')).toBe('arm64');
  });

  it('the binary prints it and exits 0', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@nodeagent/source', cli, '--version'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('Kubernetes v1.36.3\n');
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
