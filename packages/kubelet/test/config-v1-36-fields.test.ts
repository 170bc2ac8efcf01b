import { describe, expect, it } from 'vitest';
import { unsupportedFieldWarnings } from '../src/config/field-support';
import { defaultKubeletConfiguration, parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { kubeletConfigurationSchema } from '../src/config/kubelet-configuration-schema';
import { InvalidConfigError } from '../src/errors';
import { configProblems as problems } from './helpers/config-problems';

/**
 * Every top-level field of KubeletConfiguration in upstream v1.36.3 (k8s.io/kubelet v0.36.3,
 * config/v1beta1/types.go, the json names), written out here rather than derived from our schema
 * so that a field missing or extra on either side fails. Besides TypeMeta's apiVersion and kind.
 */
const upstreamV136Fields = `
address allowedUnsafeSysctls authentication authorization cgroupDriver cgroupRoot cgroupsPerQOS
clusterDNS clusterDomain configMapAndSecretChangeDetectionStrategy containerLogMaxFiles
containerLogMaxSize containerLogMaxWorkers containerLogMonitorInterval containerRuntimeEndpoint
contentType cpuCFSQuota cpuCFSQuotaPeriod cpuManagerPolicy cpuManagerPolicyOptions
cpuManagerReconcilePeriod crashLoopBackOff enableContentionProfiling enableControllerAttachDetach
enableDebugFlagsHandler enableDebuggingHandlers enableProfilingHandler enableServer
enableSystemLogHandler enableSystemLogQuery enforceNodeAllocatable eventBurst eventRecordQPS
evictionHard evictionMaxPodGracePeriod evictionMinimumReclaim evictionPressureTransitionPeriod
evictionSoft evictionSoftGracePeriod failCgroupV1 failSwapOn featureGates fileCheckFrequency
hairpinMode healthzBindAddress healthzPort httpCheckFrequency imageGCHighThresholdPercent
imageGCLowThresholdPercent imageMaximumGCAge imageMinimumGCAge
imagePullCredentialsVerificationPolicy imageServiceEndpoint iptablesDropBit iptablesMasqueradeBit
kernelMemcgNotification kubeAPIBurst kubeAPIQPS kubeReserved kubeReservedCgroup kubeletCgroups
localStorageCapacityIsolation logging makeIPTablesUtilChains maxOpenFiles maxParallelImagePulls
maxPods memoryManagerPolicy memoryReservationPolicy memorySwap memoryThrottlingFactor
mergeDefaultEvictionSettings nodeLeaseDurationSeconds nodeStatusMaxImages
nodeStatusReportFrequency nodeStatusUpdateFrequency oomScoreAdj podCIDR podLogsDir podPidsLimit
podsPerCore port preloadedImagesVerificationAllowlist protectKernelDefaults providerID
qosReserved readOnlyPort registerNode registerWithTaints registryBurst registryPullQPS
reservedMemory reservedSystemCPUs resolvConf rotateCertificates runOnce runtimeRequestTimeout
seccompDefault serializeImagePulls serverTLSBootstrap showHiddenMetricsForVersion
shutdownGracePeriod shutdownGracePeriodByPodPriority shutdownGracePeriodCriticalPods
singleProcessOOMKill staticPodPath staticPodURL staticPodURLHeader streamingConnectionIdleTimeout
syncFrequency systemCgroups systemReserved systemReservedCgroup tlsCertFile tlsCipherSuites
tlsCurvePreferences tlsMinVersion tlsPrivateKeyFile topologyManagerPolicy
topologyManagerPolicyOptions topologyManagerScope tracing userNamespaces volumePluginDir
volumeStatsAggPeriod
`
  .trim()
  .split(/\s+/);

const typeMeta = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' };

/** The InvalidConfigError parseKubeletConfiguration throws for `input`. */
function refusal(input: object): InvalidConfigError {
  try {
    parseKubeletConfiguration({ ...typeMeta, ...input });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return error as InvalidConfigError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('KubeletConfiguration fields against upstream v1.36.3', () => {
  it('has exactly the v1.36.3 fields', () => {
    expect(upstreamV136Fields).toHaveLength(125);
    const ours = Object.keys(kubeletConfigurationSchema.shape).filter(
      (f) => f !== 'apiVersion' && f !== 'kind',
    );
    expect([...ours].sort()).toEqual([...upstreamV136Fields].sort());
  });

  it('treats a field of a later release (draManagerReconcilePeriod, v1.37) as unknown: ignored, reported', () => {
    // v1.37 refuses a period <= 0; v1.36 does not know the field, so nothing is checked.
    const { config, unknownFields } = parseKubeletConfiguration({
      ...typeMeta,
      draManagerReconcilePeriod: '0s',
    });
    expect(unknownFields).toEqual(['draManagerReconcilePeriod']);
    expect(config).toEqual(defaultKubeletConfiguration());
  });
});

describe('tlsCurvePreferences (new in v1.36)', () => {
  it('defaults to none (Go picks its own groups) and then warns about nothing', () => {
    const config = defaultKubeletConfiguration();
    expect(config.tlsCurvePreferences).toEqual([]);
    expect(unsupportedFieldWarnings(config).map((w) => w.field)).not.toContain('tlsCurvePreferences');
  });

  it('accepts the IDs upstream accepts and keeps their order; the field is applied (no unsupported-field warning)', () => {
    const { config, unknownFields } = parseKubeletConfiguration({
      ...typeMeta,
      tlsCurvePreferences: [4588, 29, 23, 24, 25, 4587, 4589],
    });
    expect(unknownFields).toEqual([]);
    expect(config.tlsCurvePreferences).toEqual([4588, 29, 23, 24, 25, 4587, 4589]);
    expect(unsupportedFieldWarnings(config).map((w) => w.field)).not.toContain('tlsCurvePreferences');
  });

  it('refuses what upstream InitializeTLS refuses, with its reason for the first bad ID', () => {
    const cases: [number[], string][] = [
      [[0], 'curve preference 0 is out of range (must be 1-65535)'],
      [[-23], 'curve preference -23 is out of range (must be 1-65535)'],
      [[29, 65536], 'curve preference 65536 is out of range (must be 1-65535)'],
      [[23, 29, 23], 'duplicate curve preference 23'],
      // X448 (30) has an IANA ID but Go 1.26 does not implement it.
      [[30], 'curve preference 30 is not supported by the current Go version'],
      [[29, 30, 0], 'curve preference 30 is not supported by the current Go version'],
    ];
    for (const [ids, reason] of cases) {
      const error = refusal({ tlsCurvePreferences: ids });
      expect(error.field, String(ids)).toBe('tlsCurvePreferences');
      expect(error.value).toEqual(ids);
      expect(error.reason).toBe(reason);
    }
  });

  it('refuses a non-integer ID, as decoding into []int32 does', () => {
    expect(refusal({ tlsCurvePreferences: [23.5] }).field).toBe('tlsCurvePreferences[0]');
    expect(refusal({ tlsCurvePreferences: ['X25519'] }).field).toBe('tlsCurvePreferences[0]');
  });
});

describe('enforceNodeAllocatable in v1.36 (the -compressible levels)', () => {
  it('accepts a compressible level with its cgroup named', () => {
    const { config } = parseKubeletConfiguration({
      ...typeMeta,
      enforceNodeAllocatable: ['pods', 'system-reserved-compressible', 'kube-reserved-compressible'],
      systemReservedCgroup: '/system.slice',
      kubeReservedCgroup: '/kube.slice',
    });
    expect(config.enforceNodeAllocatable).toEqual([
      'pods',
      'system-reserved-compressible',
      'kube-reserved-compressible',
    ]);
  });

  it('needs the same cgroup for a compressible level as for its full level', () => {
    expect(problems({ enforceNodeAllocatable: ['pods', 'kube-reserved-compressible'] })).toEqual([
      'kubeReservedCgroup: must be specified when "kube-reserved" or "kube-reserved-compressible" included in enforceNodeAllocatable (--enforce-node-allocatable)',
    ]);
    expect(problems({ enforceNodeAllocatable: ['system-reserved'] })).toEqual([
      'systemReservedCgroup: must be specified when "system-reserved" or "system-reserved-compressible" included in enforceNodeAllocatable (--enforce-node-allocatable)',
    ]);
  });

  it('refuses a level together with its compressible form, and a repeated level', () => {
    expect(
      problems({
        enforceNodeAllocatable: ['system-reserved', 'system-reserved-compressible'],
        systemReservedCgroup: '/system.slice',
      }),
    ).toEqual([
      'enforceNodeAllocatable: both "system-reserved" and "system-reserved-compressible" cannot be specified together in enforceNodeAllocatable (--enforce-node-allocatable)',
    ]);
    expect(problems({ enforceNodeAllocatable: ['pods', 'pods'] })).toEqual([
      'enforceNodeAllocatable: duplicated enforcements "pods" in enforceNodeAllocatable (--enforce-node-allocatable)',
    ]);
  });
});

describe('unknown fields at any depth', () => {
  it('are reported by path and ignored, as upstream warns and decodes leniently', () => {
    const { config, unknownFields } = parseKubeletConfiguration({
      ...typeMeta,
      toString: 1,
      authentication: { anonymus: { enabled: true }, webhook: { enabled: false, cacheTtl: '1m' } },
      registerWithTaints: [{ key: 'k', effect: 'NoSchedule', tolerance: 1 }],
      logging: { format: 'json', options: { json: { infoBufferSize: '1Ki', colour: true } } },
      evictionHard: { 'memory.available': '1Gi' },
      staticPodURLHeader: { 'X-Anything': ['a'] },
    });
    expect(unknownFields).toEqual([
      'toString',
      'authentication.anonymus',
      'authentication.webhook.cacheTtl',
      'registerWithTaints[0].tolerance',
      'logging.options.json.colour',
    ]);
    // The known fields beside them are applied; maps take any key.
    expect(config.authentication.webhook.enabled).toBe(false);
    expect(config.authentication.anonymous.enabled).toBe(false);
    expect(config.logging.format).toBe('json');
    expect(config.evictionHard).toEqual({ 'memory.available': '1Gi' });
  });
});
