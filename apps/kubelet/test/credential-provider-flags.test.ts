import { describe, expect, it } from 'vitest';
import { resolveKubeletOptions } from '../src/kubelet-flags';

describe('--image-credential-provider-config and --image-credential-provider-bin-dir', () => {
  it('reach the binary as paths and are no longer reported as having no effect', async () => {
    const options = await resolveKubeletOptions([
      '--image-credential-provider-config=/etc/kubernetes/credential-providers.yaml',
      '--image-credential-provider-bin-dir=/usr/libexec/kubernetes/credential-providers',
    ]);
    expect(options.flags.imageCredentialProviderConfig).toBe('/etc/kubernetes/credential-providers.yaml');
    expect(options.flags.imageCredentialProviderBinDir).toBe('/usr/libexec/kubernetes/credential-providers');
    expect(options.noEffectFlags.map((f) => f.flag)).toEqual([]);
  });
});
