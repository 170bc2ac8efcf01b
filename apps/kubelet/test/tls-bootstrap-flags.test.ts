import { InvalidConfigError } from '@nodeagent/kubelet';
import { describe, expect, it } from 'vitest';
import { resolveKubeletOptions } from '../src/kubelet-flags';

describe('TLS bootstrapping flags', () => {
  it('defaults --cert-dir to /var/lib/kubelet/pki and leaves rotation off', async () => {
    const { flags, config } = await resolveKubeletOptions([]);
    expect(flags.certDir).toBe('/var/lib/kubelet/pki');
    expect(flags.bootstrapKubeconfig).toBeUndefined();
    expect(config.rotateCertificates).toBe(false);
  });

  it('reads --bootstrap-kubeconfig, --cert-dir and --rotate-certificates (with or without a value)', async () => {
    const { flags, config } = await resolveKubeletOptions([
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      '--cert-dir=/srv/pki',
      '--rotate-certificates',
    ]);
    expect(flags.bootstrapKubeconfig).toBe('/etc/kubernetes/bootstrap-kubelet.conf');
    expect(flags.certDir).toBe('/srv/pki');
    expect(config.rotateCertificates).toBe(true);
    const off = await resolveKubeletOptions(['--rotate-certificates=false']);
    expect(off.config.rotateCertificates).toBe(false);
  });

  it('refuses --bootstrap-kubeconfig without --kubeconfig, naming the flag', async () => {
    const error = await resolveKubeletOptions(['--bootstrap-kubeconfig=/b.conf']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe('--bootstrap-kubeconfig');
    expect((error as Error).message).toBe(
      '--bootstrap-kubeconfig: needs --kubeconfig: the bootstrapped kubeconfig is written there (got "/b.conf")',
    );
  });
});
