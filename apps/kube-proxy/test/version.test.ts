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

  it('buildProgram prints it for --version, --version=true and --version=raw, and exits 0', async () => {
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const program = buildProgram({ stdout: (t) => (out += t), stderr: (t) => (err += t) });
      await program.parseAsync(['node', 'nodeagent-kube-proxy', ...args]);
      return { out, err, code: program.exitCode ?? 0 };
    };
    expect(await run(['--version'])).toEqual({ out: 'Kubernetes v1.36.3\n', err: '', code: 0 });
    expect(await run(['--version=true'])).toEqual({ out: 'Kubernetes v1.36.3\n', err: '', code: 0 });
    expect((await run(['--version=raw'])).out).toBe(`${rawVersionText('nodeagent-kube-proxy')}\n`);
    const bad = await run(['--version=sometimes']);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('error: --version: invalid value "sometimes": must be true, false or raw\n');
  });
});
