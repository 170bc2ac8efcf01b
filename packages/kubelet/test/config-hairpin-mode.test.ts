import { describe, expect, it } from 'vitest';
import { kubeletConfigurationFieldSupport, unsupportedFieldWarnings } from '../src/config/field-support';
import { defaultKubeletConfiguration, parseKubeletConfiguration } from '../src/config/kubelet-configuration';

// hairpinMode in upstream v1.36: validation.go accepts promiscuous-bridge (the default),
// hairpin-veth and none, and nothing reads it afterwards (hairpin setup went with dockershim in
// v1.24; CNI plugins such as bridge's hairpinMode do it now).
describe('hairpinMode (validated only, as upstream v1.36)', () => {
  it('is a field upstream gives no effect: no start-up warning for any valid value', () => {
    expect(kubeletConfigurationFieldSupport.hairpinMode.status).toBe('no-effect-upstream');
    for (const hairpinMode of ['promiscuous-bridge', 'hairpin-veth', 'none'] as const) {
      const { config } = parseKubeletConfiguration({ hairpinMode });
      expect(config.hairpinMode).toBe(hairpinMode);
      expect(unsupportedFieldWarnings(config)).toEqual([]);
    }
    expect(defaultKubeletConfiguration().hairpinMode).toBe('promiscuous-bridge');
  });

  it('refuses any other value, naming the field', () => {
    expect(() => parseKubeletConfiguration({ hairpinMode: 'bogus' } as never)).toThrow(/hairpinMode/);
  });
});
