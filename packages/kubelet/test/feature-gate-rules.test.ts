import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parseKubeletConfiguration } from '../src';

// featureGates in KubeletConfiguration, checked first as upstream's ValidateKubeletConfiguration
// does (issue #49).

const parse = (featureGates: Record<string, boolean>, rest: Record<string, unknown> = {}) =>
  parseKubeletConfiguration({ featureGates, ...rest });

describe('KubeletConfiguration featureGates', () => {
  it.each([
    [{ Bogus: true }, 'unrecognized feature gate: Bogus'],
    [{ KubeletTracing: false }, 'cannot set feature gate KubeletTracing to false, feature is locked to true'],
  ])('%j is refused: %s', (gates, reason) => {
    expect(() => parse(gates)).toThrow(InvalidConfigError);
    try {
      parse(gates);
    } catch (error) {
      expect((error as InvalidConfigError).field).toBe('featureGates');
      expect((error as InvalidConfigError).reason).toBe(reason);
      expect((error as InvalidConfigError).causes).toEqual([]);
    }
  });

  it('reports the gate alone, before the other rules, as upstream returns it first', () => {
    expect(() =>
      parse({ Bogus: true }, { imageGCLowThresholdPercent: 90, imageGCHighThresholdPercent: 80 }),
    ).toThrow('featureGates: unrecognized feature gate: Bogus');
  });

  it('keeps the gates as set, adding an honoured gate only where AllAlpha/AllBeta moved it off its default', () => {
    expect(parse({ EventedPLEG: true }).config.featureGates).toEqual({ EventedPLEG: true });
    expect(parse({ AllBeta: false, ContainerCheckpoint: true }).config.featureGates).toMatchObject({
      AllBeta: false,
      ContainerCheckpoint: true,
      KubeletServiceAccountTokenForCredentialProviders: false,
      NodeDeclaredFeatures: false,
    });
  });
});
