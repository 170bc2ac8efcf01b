import { describe, expect, it } from 'vitest';
import { unsupportedFieldWarnings } from '../src/config/field-support';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { configProblems as problems } from './helpers/config-problems';

// Upstream v1.36 ValidateKubeletConfiguration's rules for fields a feature gate guards: each is
// refused with the gate off, and held to its own limits with the gate on (v1.36's defaults).

describe('fields behind a feature gate', () => {
  it('cpuCFSQuotaPeriod away from 100ms needs CustomCPUCFSQuotaPeriod (GA, on by default)', () => {
    expect(problems({ cpuCFSQuotaPeriod: '50ms' })).toEqual([]);
    expect(
      problems({ cpuCFSQuotaPeriod: '100ms', featureGates: { CustomCPUCFSQuotaPeriod: false } }),
    ).toEqual([]);
    expect(problems({ cpuCFSQuotaPeriod: '50ms', featureGates: { CustomCPUCFSQuotaPeriod: false } })).toEqual(
      ['cpuCFSQuotaPeriod: requires feature gate CustomCPUCFSQuotaPeriod'],
    );
  });

  it('crashLoopBackOff.maxContainerRestartPeriod: 1s-300s with KubeletCrashLoopBackOffMax, unset without', () => {
    expect(problems({ crashLoopBackOff: { maxContainerRestartPeriod: '300s' } })).toEqual([]);
    expect(problems({ crashLoopBackOff: { maxContainerRestartPeriod: '10m' } })).toEqual([
      'crashLoopBackOff.maxContainerRestartPeriod: CrashLoopBackOff.MaxContainerRestartPeriod (got: 600 seconds) must be set between 1s and 300s',
    ]);
    expect(problems({ crashLoopBackOff: { maxContainerRestartPeriod: '500ms' } })).toEqual([
      'crashLoopBackOff.maxContainerRestartPeriod: CrashLoopBackOff.MaxContainerRestartPeriod (got: 0.5 seconds) must be set between 1s and 300s',
    ]);
    expect(
      problems({
        crashLoopBackOff: { maxContainerRestartPeriod: '10s' },
        featureGates: { KubeletCrashLoopBackOffMax: false },
      }),
    ).toEqual([
      'crashLoopBackOff.maxContainerRestartPeriod: FeatureGate KubeletCrashLoopBackOffMax not enabled, CrashLoopBackOff.MaxContainerRestartPeriod must not be set',
    ]);
    expect(problems({ featureGates: { KubeletCrashLoopBackOffMax: false } })).toEqual([]);
  });

  it('serverTLSBootstrap needs RotateKubeletServerCertificate', () => {
    expect(problems({ serverTLSBootstrap: true })).toEqual([]);
    expect(
      problems({ serverTLSBootstrap: true, featureGates: { RotateKubeletServerCertificate: false } }),
    ).toEqual(['serverTLSBootstrap: requires feature gate RotateKubeletServerCertificate']);
  });

  it('memoryReservationPolicy TieredReservation (new in v1.36) needs MemoryQoS (alpha, off by default)', () => {
    expect(problems({ memoryReservationPolicy: 'TieredReservation' })).toEqual([
      'memoryReservationPolicy: requires MemoryQoS feature gate to be enabled',
    ]);
    expect(
      problems({ memoryReservationPolicy: 'TieredReservation', featureGates: { MemoryQoS: true } }),
    ).toEqual([]);
    expect(problems({ memoryReservationPolicy: 'None' })).toEqual([]);
  });

  it('graceful shutdown periods need GracefulNodeShutdown, the per-priority list its own gate', () => {
    // The gates that depend on GracefulNodeShutdown go off with it (v1.36 refuses them on without it).
    const noShutdown = {
      GracefulNodeShutdown: false,
      GracefulNodeShutdownBasedOnPodPriority: false,
      WindowsGracefulNodeShutdown: false,
    };
    expect(problems({ shutdownGracePeriod: '30s', featureGates: noShutdown })).toEqual([
      'shutdownGracePeriod: specifying shutdownGracePeriod or shutdownGracePeriodCriticalPods requires feature gate GracefulNodeShutdown',
    ]);
    // Without the gate upstream does not hold the periods to their limits (500ms passes that rule).
    expect(problems({ shutdownGracePeriodCriticalPods: '500ms', featureGates: noShutdown })).toEqual([
      'shutdownGracePeriod: specifying shutdownGracePeriod or shutdownGracePeriodCriticalPods requires feature gate GracefulNodeShutdown',
    ]);
    expect(problems({ shutdownGracePeriod: '500ms' })).toEqual([
      'shutdownGracePeriod: must be either zero or otherwise >= 1 sec',
    ]);
    const byPriority = [{ priority: 1000, shutdownGracePeriodSeconds: 10 }];
    expect(problems({ shutdownGracePeriodByPodPriority: byPriority })).toEqual([]);
    expect(
      problems({
        shutdownGracePeriodByPodPriority: byPriority,
        featureGates: { GracefulNodeShutdownBasedOnPodPriority: false },
      }),
    ).toEqual([
      'shutdownGracePeriodByPodPriority: Specifying shutdownGracePeriodByPodPriority requires feature gate GracefulNodeShutdownBasedOnPodPriority',
    ]);
  });

  it('the image pull verification fields must stay unset without KubeletEnsureSecretPulledImages', () => {
    const off = { featureGates: { KubeletEnsureSecretPulledImages: false } };
    expect(problems(off)).toEqual([]);
    expect(
      problems({
        ...off,
        imagePullCredentialsVerificationPolicy: 'NeverVerifyAllowlistedImages',
        // Not checked as patterns without the gate: only refused for being set.
        preloadedImagesVerificationAllowlist: ['registry.io/*/app'],
      }),
    ).toEqual([
      'imagePullCredentialsVerificationPolicy: `imagePullCredentialsVerificationPolicy` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled',
      'preloadedImagesVerificationAllowlist: `preloadedImagesVerificationAllowlist` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled',
    ]);
  });
});

describe('podLogsDir', () => {
  it('must be ASCII (it labels metrics), in upstream words', () => {
    expect(problems({ podLogsDir: '/var/log/pöds' })).toEqual([
      'podLogsDir: pod logs path mut contains ASCII characters only',
    ]);
    expect(problems({ podLogsDir: '/var/log/pods2' })).toEqual([]);
  });
});

describe('defaults upstream sets only while a gate is on', () => {
  it('with both gates at their v1.36 defaults (beta, on): 5m0s and NeverVerifyPreloadedImages', () => {
    const { config } = parseKubeletConfiguration({});
    expect(config.crashLoopBackOff).toEqual({ maxContainerRestartPeriod: '5m0s' });
    expect(config.imagePullCredentialsVerificationPolicy).toBe('NeverVerifyPreloadedImages');
    expect(unsupportedFieldWarnings(config)).toEqual([]);
  });

  it('keeps a value given, and sets nothing with the gate off', () => {
    const given = parseKubeletConfiguration({
      crashLoopBackOff: { maxContainerRestartPeriod: '1m' },
      imagePullCredentialsVerificationPolicy: 'AlwaysVerify',
    }).config;
    expect(given.crashLoopBackOff).toEqual({ maxContainerRestartPeriod: '1m' });
    expect(given.imagePullCredentialsVerificationPolicy).toBe('AlwaysVerify');
    // The back-off cap is honoured: no warning.
    expect(unsupportedFieldWarnings(given)).toEqual([]);

    const off = parseKubeletConfiguration({
      featureGates: { KubeletCrashLoopBackOffMax: false, KubeletEnsureSecretPulledImages: false },
    }).config;
    expect(off.crashLoopBackOff).toEqual({});
    expect(off.imagePullCredentialsVerificationPolicy).toBe('');
    expect(unsupportedFieldWarnings(off)).toEqual([]);
  });
});
