import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { goArch, versionText } from './version';

// Beside the source: --version is part of the binary's src/ (its test/ belongs to its author).
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('nodeagent-kubelet --version', { timeout: 60_000 }, () => {
  it('formats name, version, node, platform/arch and the Kubernetes line', () => {
    expect(
      versionText('nodeagent-kubelet', {
        version: '9.8.7',
        nodeVersion: 'v22.0.0',
        platform: 'darwin',
        arch: 'x64',
      }),
    ).toBe('nodeagent-kubelet v9.8.7 (node v22.0.0, darwin/amd64)\nKubernetes v1.34.0');
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
    expect(r.stdout).toBe(
      `nodeagent-kubelet v${pkg.version} (node ${process.version}, ${process.platform}/${goArch()})\nKubernetes v1.34.0\n`,
    );
  });
});
