import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appVersion, goArch, packageVersion, versionText } from '../src/index';

describe('version', () => {
  const root = mkdtempSync(join(tmpdir(), 'primitives-version-'));
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ version: '3.2.1' }));

  it('reads the package.json above a module, from a directory or a file URL', () => {
    expect(packageVersion(join(root, 'dist'))).toBe('3.2.1');
    expect(packageVersion(pathToFileURL(join(root, 'dist', 'index.js')).href)).toBe('3.2.1');
  });

  it('formats name, version, node, platform/arch and the Kubernetes line', () => {
    expect(
      versionText('nodeagent-x', join(root, 'dist'), {
        nodeVersion: 'v22.0.0',
        platform: 'darwin',
        arch: 'x64',
      }),
    ).toBe('nodeagent-x v3.2.1 (node v22.0.0, darwin/amd64)\nKubernetes v1.34.0');
    const app = appVersion(join(root, 'dist'));
    expect(app.packageVersion()).toBe('3.2.1');
    expect(
      app.versionText('nodeagent-x', {
        version: '1.0.0',
        nodeVersion: 'v1',
        platform: 'linux',
        arch: 'arm64',
      }),
    ).toBe('nodeagent-x v1.0.0 (node v1, linux/arm64)\nKubernetes v1.34.0');
    expect(goArch('ia32')).toBe('386');
    expect(goArch('riscv64')).toBe('riscv64');
  });
});
