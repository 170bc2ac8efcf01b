import { describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { crashLoopBackOffDelays } from '../src/pod/crash-loop-back-off-delays';

const delays = (fields: Record<string, unknown>) =>
  crashLoopBackOffDelays(parseKubeletConfiguration(fields).config);

describe("crashLoopBackOffDelays (upstream's newCrashLoopBackOff)", () => {
  it('10 s doubling to 5 min by default (KubeletCrashLoopBackOffMax on, its 5m0s default)', () => {
    expect(delays({})).toEqual({ initialMs: 10_000, maxMs: 300_000 });
  });

  it('caps at maxContainerRestartPeriod; a cap below 10 s is the first delay too', () => {
    expect(delays({ crashLoopBackOff: { maxContainerRestartPeriod: '30s' } })).toEqual({
      initialMs: 10_000,
      maxMs: 30_000,
    });
    expect(delays({ crashLoopBackOff: { maxContainerRestartPeriod: '2s' } })).toEqual({
      initialMs: 2_000,
      maxMs: 2_000,
    });
  });

  it('ReduceDefaultCrashLoopBackOffDecay: 1 s to 1 min, unless the period (defaulted to 5m0s) overrides the cap', () => {
    expect(
      delays({
        featureGates: { ReduceDefaultCrashLoopBackOffDecay: true, KubeletCrashLoopBackOffMax: false },
      }),
    ).toEqual({
      initialMs: 1_000,
      maxMs: 60_000,
    });
    // As upstream: the gated default 5m0s is the operator's value, and it takes precedence.
    expect(delays({ featureGates: { ReduceDefaultCrashLoopBackOffDecay: true } })).toEqual({
      initialMs: 1_000,
      maxMs: 300_000,
    });
  });

  it('a configuration without the gated default keeps the gates\u2019 cap', () => {
    const { config } = parseKubeletConfiguration({});
    expect(crashLoopBackOffDelays({ ...config, crashLoopBackOff: {} })).toEqual({
      initialMs: 10_000,
      maxMs: 300_000,
    });
  });
});
