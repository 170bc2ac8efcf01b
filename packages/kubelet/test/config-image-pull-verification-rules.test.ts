import { describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { InvalidConfigError } from '../src/errors';

// Upstream ValidateKubeletConfiguration for KEP-2535's two fields (KubeletEnsureSecretPulledImages on).
const policyMismatch =
  'can\'t set `preloadedImagesVerificationAllowlist` if `imagePullCredentialsVertificationPolicy` is not "NeverVerifyAllowlistedImages"';

function refusal(input: Record<string, unknown>): InvalidConfigError {
  try {
    parseKubeletConfiguration(input);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('imagePullCredentialsVerificationPolicy and preloadedImagesVerificationAllowlist', () => {
  it.each(['', 'NeverVerify', 'NeverVerifyPreloadedImages', 'AlwaysVerify'])(
    'refuses an allowlist under policy %j, naming the allowlist',
    (policy) => {
      const error = refusal({
        imagePullCredentialsVerificationPolicy: policy,
        preloadedImagesVerificationAllowlist: ['registry.io/team/*'],
      });
      expect(error).toMatchObject({
        field: 'preloadedImagesVerificationAllowlist',
        value: ['registry.io/team/*'],
        reason: policyMismatch,
      });
    },
  );

  it('checks no pattern once the policy is wrong (upstream reports only the policy rule)', () => {
    const error = refusal({
      imagePullCredentialsVerificationPolicy: 'AlwaysVerify',
      preloadedImagesVerificationAllowlist: ['registry.io/*/app'],
    });
    expect(error.causes.map((cause) => cause.reason)).toEqual([policyMismatch]);
  });

  it('accepts an allowlist under NeverVerifyAllowlistedImages and every policy without one', () => {
    expect(
      parseKubeletConfiguration({
        imagePullCredentialsVerificationPolicy: 'NeverVerifyAllowlistedImages',
        preloadedImagesVerificationAllowlist: ['registry.io/team/*', 'docker.io/library/busybox'],
      }).config.preloadedImagesVerificationAllowlist,
    ).toEqual(['registry.io/team/*', 'docker.io/library/busybox']);
    for (const policy of [
      'NeverVerify',
      'NeverVerifyPreloadedImages',
      'NeverVerifyAllowlistedImages',
      'AlwaysVerify',
    ])
      expect(
        parseKubeletConfiguration({ imagePullCredentialsVerificationPolicy: policy }).config
          .imagePullCredentialsVerificationPolicy,
      ).toBe(policy);
  });

  it.each([
    [
      'registry.io/*/app',
      "not a valid wildcard pattern, only patterns ending with '/*' are allowed: registry.io/*/app",
    ],
    ['*', "not a valid wildcard pattern, only patterns ending with '/*' are allowed: *"],
    ['/*', 'at least registry hostname is required'],
    [' registry.io/app', 'leading/trailing spaces are not allowed:  registry.io/app'],
    ['registry.io/app:1', 'neither tag nor digest is accepted in an image reference: registry.io/app:1'],
  ])('under NeverVerifyAllowlistedImages refuses pattern %j: %s', (pattern, reason) => {
    const error = refusal({
      imagePullCredentialsVerificationPolicy: 'NeverVerifyAllowlistedImages',
      preloadedImagesVerificationAllowlist: ['registry.io/ok/*', pattern],
    });
    expect(error).toMatchObject({ field: 'preloadedImagesVerificationAllowlist', value: pattern });
    expect(error.reason).toContain(reason);
  });

  it('refuses an unknown policy', () => {
    expect(refusal({ imagePullCredentialsVerificationPolicy: 'Sometimes' })).toMatchObject({
      field: 'imagePullCredentialsVerificationPolicy',
      value: 'Sometimes',
    });
  });
});
