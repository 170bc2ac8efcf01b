import { describe, expect, it } from 'vitest';
import { buildProgram, goArch, rawVersionText, versionText } from '../src/index';

describe('version text', () => {
  it('names architectures as Go does', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(goArch('ia32')).toBe('386');
    expect(goArch('riscv64')).toBe('riscv64');
  });

  it('--version is the one line kubeadm parses; --version=raw names this binary', () => {
    expect(versionText()).toBe('Kubernetes v1.36.3');
    expect(
      rawVersionText('nodeagent-kube-proxy', {
        version: '1.2.3',
        nodeVersion: 'v20.1.0',
        platform: 'linux',
        arch: 'arm64',
      }),
    ).toMatch(/\nnodeagent-kube-proxy v1\.2\.3 \(node v20\.1\.0, linux\/arm64\)$/);
  });

  it('buildProgram prints it for --version and exits 0 through commander', async () => {
    let out = '';
    const program = buildProgram({ stdout: (t) => (out += t), stderr: () => undefined });
    const err = await program
      .parseAsync(['node', 'nodeagent-kube-proxy', '--version'])
      .catch((e: unknown) => e);
    expect((err as { code?: string; exitCode?: number }).code).toBe('commander.version');
    expect((err as { exitCode?: number }).exitCode).toBe(0);
    expect(out).toBe('Kubernetes v1.36.3\n');
  });
});
