import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { appVersion, goArch, packageVersion, rawVersionText, versionText } from '../src/index';

// kubeadm's KubeletVersion preflight check parses the whole trimmed `--version` output with this.
const kubeadmPattern = /^\s*Kubernetes v(\d+\.\d+\.\d+[-\w.+]*)\s*$/;

describe('version', () => {
  const root = mkdtempSync(join(tmpdir(), 'primitives-version-'));
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ version: '3.2.1' }));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the package.json above a module, from a directory or a file URL', () => {
    expect(packageVersion(join(root, 'dist'))).toBe('3.2.1');
    expect(packageVersion(pathToFileURL(join(root, 'dist', 'index.js')).href)).toBe('3.2.1');
  });

  it('--version is the one line kubeadm parses, naming v1.36', () => {
    expect(versionText()).toBe('Kubernetes v1.36.3');
    expect(kubeadmPattern.exec(`${versionText()}\n`)?.[1]).toBe('1.36.3');
  });

  it('--version=raw is upstream version.Info, then name, version, node, platform/arch', () => {
    const raw = rawVersionText('nodeagent-x', join(root, 'dist'), {
      nodeVersion: 'v22.0.0',
      platform: 'darwin',
      arch: 'x64',
    });
    expect(raw).toBe(
      'version.Info{Major:"1", Minor:"36", GitVersion:"v1.36.3", GitCommit:"", GitTreeState:"", BuildDate:"", GoVersion:"", Compiler:"node", Platform:"darwin/amd64"}\nnodeagent-x v3.2.1 (node v22.0.0, darwin/amd64)',
    );
    const app = appVersion(join(root, 'dist'));
    expect(app.packageVersion()).toBe('3.2.1');
    expect(app.versionText()).toBe('Kubernetes v1.36.3');
    expect(
      app.rawVersionText('nodeagent-x', {
        version: '1.0.0',
        nodeVersion: 'v1',
        platform: 'linux',
        arch: 'arm64',
      }),
    ).toMatch(/\nnodeagent-x v1\.0\.0 \(node v1, linux\/arm64\)$/);
    expect(goArch('ia32')).toBe('386');
    expect(goArch('riscv64')).toBe('riscv64');
  });
});
