import { isIP } from 'node:net';
import { parseDuration } from '@nodeagent/primitives';
import { z } from 'zod';
import { taintProblem } from './taint-rules';
import { tlsCipherSuitesProblem } from './tls-cipher-suites';
import { tlsCurvePreferencesProblem } from './tls-curve-preferences';
import { tracingEndpointProblem } from './tracing-endpoint';
import { defaultEvictionHard } from './v1beta1-defaults';

// The KubeletConfiguration's fields, defaults and per-field checks (the schema) and its types, apart
// from the parser (kubelet-configuration.ts) so that the rules across fields (configuration-rules.ts)
// can name the type without an import cycle.

/** The apiVersion a KubeletConfiguration file must carry. */
export const kubeletConfigurationApiVersion = 'kubelet.config.k8s.io/v1beta1';
/** The kind a KubeletConfiguration file must carry. */
export const kubeletConfigurationKind = 'KubeletConfiguration';

/** A Go duration's milliseconds, or NaN when it does not parse (so range checks simply fail). */
function safeDurationMs(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    return Number.NaN;
  }
}

/**
 * kubelet.config.k8s.io/v1beta1 KubeletConfiguration: the fields this kubelet honours, with
 * upstream's names and defaults. Durations stay Go duration strings as in the file; use
 * parseDuration() to turn them into milliseconds.
 *
 * Built on demand: a zod schema of ~130 fields is ~6,000 closures and their shapes (about 1.5 MiB
 * of V8 heap) that a running kubelet needs only while it reads its configuration at start, so
 * the parser does not keep one alive (see `configurationSchema`).
 *
 * function-length: one declarative table (a zod field per KubeletConfiguration field with its
 * default), plus the few shared field shapes it uses; splitting it would scatter the schema.
 */
export function buildKubeletConfigurationSchema() {
  const duration = z.string().refine((text) => !Number.isNaN(safeDurationMs(text)), {
    message: 'not a duration such as "10s" or "1m0s"',
    abort: true,
  });
  const nonNegativeDuration = duration.refine((text) => safeDurationMs(text) >= 0, {
    message: 'must not be negative',
  });
  const positiveDuration = duration.refine((text) => safeDurationMs(text) > 0, {
    message: 'must be greater than 0',
  });
  const portNumber = z
    .number()
    .int()
    .refine((n) => n >= 0 && n <= 65535, { message: 'must be between 0 and 65535, inclusive' });
  const nonZeroPort = z
    .number()
    .int()
    .refine((n) => n >= 1 && n <= 65535, { message: 'must be between 1 and 65535, inclusive' });
  const percent = z.number().int().min(0).max(100);
  const stringMap = z.record(z.string(), z.string());

  // v1.Taint; upstream refuses a timeAdded in registerWithTaints (the API server stamps it), so it
  // is read to be refused rather than dropped unseen, and left out of the result.
  // The key, value and effect are checked as upstream's validation checks them (taint-rules.ts).
  const taint = z
    .object({
      key: z.string(),
      value: z.string().optional(),
      effect: z.string().optional(),
      timeAdded: z
        .unknown()
        .refine((time) => time === undefined || time === null, { message: 'taint.TimeAdded is not nil' })
        .optional(),
    })
    .superRefine((t, ctx) => {
      const problem = taintProblem(t);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform(({ timeAdded: _timeAdded, effect, ...rest }) => ({
      ...rest,
      // Checked above: one of upstream's effects, or none (which the API server then refuses).
      effect: (effect ?? '') as 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute',
    }));

  /** component-base LoggingConfiguration as the kubelet file carries it (`logging:`). */
  const loggingConfiguration = z.object({
    format: z.enum(['text', 'json']).default('text'),
    /** Go duration string or integer nanoseconds (kubeadm writes 0); 0 means the default 5s. */
    flushFrequency: z.union([duration, z.number().int().min(0)]).default('5s'),
    verbosity: z.number().int().min(0).default(0),
    vmodule: z.array(z.object({ filePattern: z.string(), verbosity: z.number().int().min(0) })).default([]),
    options: z
      .object({
        text: z
          .object({
            splitStream: z.boolean().optional(),
            infoBufferSize: z.union([z.string(), z.number()]).optional(),
          })
          .optional(),
        json: z
          .object({
            splitStream: z.boolean().optional(),
            infoBufferSize: z.union([z.string(), z.number()]).optional(),
          })
          .optional(),
      })
      .default({ text: { infoBufferSize: '0' }, json: { infoBufferSize: '0' } }),
  });

  const defaultLogging = (): z.output<typeof loggingConfiguration> => ({
    format: 'text',
    flushFrequency: '5s',
    verbosity: 0,
    vmodule: [],
    options: { text: { infoBufferSize: '0' }, json: { infoBufferSize: '0' } },
  });

  return z.object({
    apiVersion: z.literal(kubeletConfigurationApiVersion).default(kubeletConfigurationApiVersion),
    kind: z.literal(kubeletConfigurationKind).default(kubeletConfigurationKind),
    enableServer: z.boolean().default(true),
    staticPodPath: z.string().default(''),
    podLogsDir: z.string().default('/var/log/pods'),
    syncFrequency: positiveDuration.default('1m0s'),
    fileCheckFrequency: positiveDuration.default('20s'),
    httpCheckFrequency: positiveDuration.default('20s'),
    staticPodURL: z.string().default(''),
    address: z
      .string()
      .refine((text) => isIP(text) !== 0, { message: 'not an IP address' })
      .default('0.0.0.0'),
    port: nonZeroPort.default(10250),
    readOnlyPort: portNumber.default(0),
    tlsCertFile: z.string().default(''),
    tlsPrivateKeyFile: z.string().default(''),
    rotateCertificates: z.boolean().default(false),
    serverTLSBootstrap: z.boolean().default(false),
    authentication: z
      .object({
        x509: z.object({ clientCAFile: z.string().default('') }).default({ clientCAFile: '' }),
        webhook: z
          .object({ enabled: z.boolean().default(true), cacheTTL: nonNegativeDuration.default('2m0s') })
          .default({ enabled: true, cacheTTL: '2m0s' }),
        anonymous: z.object({ enabled: z.boolean().default(false) }).default({ enabled: false }),
      })
      .default({
        x509: { clientCAFile: '' },
        webhook: { enabled: true, cacheTTL: '2m0s' },
        anonymous: { enabled: false },
      }),
    authorization: z
      .object({
        mode: z.enum(['AlwaysAllow', 'Webhook']).default('Webhook'),
        webhook: z
          .object({
            cacheAuthorizedTTL: nonNegativeDuration.default('5m0s'),
            cacheUnauthorizedTTL: nonNegativeDuration.default('30s'),
          })
          .default({ cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' }),
      })
      .default({ mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' } }),
    registryPullQPS: z.number().min(0).default(5),
    registryBurst: z.number().int().min(0).default(10),
    eventRecordQPS: z.number().min(0).default(50),
    eventBurst: z.number().int().min(0).default(100),
    enableDebuggingHandlers: z.boolean().default(true),
    healthzPort: portNumber.default(10248),
    healthzBindAddress: z.string().default('127.0.0.1'),
    oomScoreAdj: z.number().int().min(-1000).max(1000).default(-999),
    clusterDomain: z.string().default(''),
    clusterDNS: z
      .array(z.string().refine((text) => isIP(text) !== 0, { message: 'not an IP address' }))
      .default([]),
    streamingConnectionIdleTimeout: nonNegativeDuration.default('4h0m0s'),
    nodeStatusUpdateFrequency: positiveDuration.default('10s'),
    nodeStatusReportFrequency: positiveDuration.default('5m0s'),
    nodeLeaseDurationSeconds: z.number().int().min(1).default(40),
    imageMinimumGCAge: nonNegativeDuration.default('2m0s'),
    imageMaximumGCAge: nonNegativeDuration.default('0s'),
    imageGCHighThresholdPercent: percent.default(85),
    imageGCLowThresholdPercent: percent.default(80),
    volumeStatsAggPeriod: duration.default('1m0s'),
    cgroupsPerQOS: z.boolean().default(true),
    cgroupDriver: z.enum(['cgroupfs', 'systemd']).default('cgroupfs'),
    cgroupRoot: z.string().default(''),
    runtimeRequestTimeout: positiveDuration.default('2m0s'),
    hairpinMode: z.enum(['promiscuous-bridge', 'hairpin-veth', 'none']).default('promiscuous-bridge'),
    maxPods: z.number().int().min(0, { message: 'must not be a negative number' }).default(110),
    podCIDR: z.string().default(''),
    podPidsLimit: z
      .number()
      .int()
      .refine((n) => n === -1 || n > 0, { message: 'must be -1 (unlimited) or greater than 0' })
      .default(-1),
    resolvConf: z.string().default('/etc/resolv.conf'),
    cpuCFSQuota: z.boolean().default(true),
    cpuCFSQuotaPeriod: duration
      .refine((text) => parseDuration(text) >= 1 && parseDuration(text) <= 1000, {
        message: 'must be between 1ms and 1s',
      })
      .default('100ms'),
    nodeStatusMaxImages: z.number().int().min(-1).default(50),
    maxOpenFiles: z.number().int().min(0).default(1_000_000),
    kubeAPIQPS: z.number().min(0).default(50),
    kubeAPIBurst: z.number().int().min(0).default(100),
    serializeImagePulls: z.boolean().default(true),
    maxParallelImagePulls: z.number().int().min(1).optional(),
    evictionHard: stringMap.default({ ...defaultEvictionHard }),
    evictionSoft: stringMap.default({}),
    evictionSoftGracePeriod: z.record(z.string(), duration).default({}),
    evictionPressureTransitionPeriod: nonNegativeDuration.default('5m0s'),
    evictionMaxPodGracePeriod: z.number().int().default(0),
    evictionMinimumReclaim: stringMap.default({}),
    failSwapOn: z.boolean().default(true),
    containerLogMaxSize: z.string().default('10Mi'),
    containerLogMaxFiles: z.number().int().min(2).default(5),
    systemReserved: stringMap.default({}),
    kubeReserved: stringMap.default({}),
    enforceNodeAllocatable: z
      .array(
        z.enum([
          'pods',
          'system-reserved',
          'system-reserved-compressible',
          'kube-reserved',
          'kube-reserved-compressible',
          'none',
        ]),
      )
      .default(['pods']),
    containerRuntimeEndpoint: z.string().min(1).default('unix:///run/containerd/containerd.sock'),
    imageServiceEndpoint: z.string().default(''),
    registerNode: z.boolean().default(true),
    registerWithTaints: z.array(taint).default([]),
    providerID: z.string().default(''),
    shutdownGracePeriod: nonNegativeDuration.default('0s'),
    shutdownGracePeriodCriticalPods: nonNegativeDuration.default('0s'),
    localStorageCapacityIsolation: z.boolean().default(true),
    seccompDefault: z.boolean().default(false),
    /** Unsafe sysctl names or prefixes ending in `*` that pods may set (besides the safe set). */
    allowedUnsafeSysctls: z.array(z.string().min(1)).default([]),
    makeIPTablesUtilChains: z.boolean().default(true),
    featureGates: z.record(z.string(), z.boolean()).default({}),
    // The rest of v1beta1 (Kubernetes v1.36): accepted with upstream's defaults; what this kubelet
    // does with each one is in config/field-support.ts (applied, or warned about at start).
    staticPodURLHeader: z.record(z.string(), z.array(z.string())).default({}),
    // Upstream refuses a name Go does not know before it starts anything (InitializeTLS).
    tlsCipherSuites: z
      .array(z.string())
      .superRefine((names, ctx) => {
        const problem = tlsCipherSuitesProblem(names);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default([]),
    // v1.36+: IANA TLS Supported Group IDs. Upstream refuses a bad list before it starts anything.
    tlsCurvePreferences: z
      .array(z.number().int())
      .superRefine((ids, ctx) => {
        const problem = tlsCurvePreferencesProblem(ids);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default([]),
    tlsMinVersion: z.enum(['', 'VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13']).default(''),
    imagePullCredentialsVerificationPolicy: z
      .enum(['', 'NeverVerify', 'NeverVerifyPreloadedImages', 'NeverVerifyAllowlistedImages', 'AlwaysVerify'])
      .default(''),
    preloadedImagesVerificationAllowlist: z.array(z.string()).default([]),
    enableContentionProfiling: z.boolean().default(false),
    kubeletCgroups: z.string().default(''),
    systemCgroups: z.string().default(''),
    cpuManagerPolicy: z.string().default('none'),
    /** Absent: decided from the cgroup version (false on cgroup v2). */
    singleProcessOOMKill: z.boolean().optional(),
    cpuManagerPolicyOptions: stringMap.default({}),
    cpuManagerReconcilePeriod: nonNegativeDuration.default('10s'),
    memoryManagerPolicy: z.string().default('None'),
    topologyManagerPolicy: z.enum(['none', 'best-effort', 'restricted', 'single-numa-node']).default('none'),
    topologyManagerScope: z.enum(['container', 'pod']).default('container'),
    topologyManagerPolicyOptions: stringMap.default({}),
    qosReserved: stringMap.default({}),
    runOnce: z
      .boolean()
      .refine((on) => !on, { message: 'Runonce mode has been deprecated and should not be set' })
      .default(false),
    contentType: z.string().default('application/vnd.kubernetes.protobuf'),
    mergeDefaultEvictionSettings: z.boolean().default(false),
    podsPerCore: z.number().int().min(0).default(0),
    enableControllerAttachDetach: z.boolean().default(true),
    protectKernelDefaults: z.boolean().default(false),
    iptablesMasqueradeBit: z.number().int().min(0).max(31).default(14),
    iptablesDropBit: z.number().int().min(0).max(31).default(15),
    memorySwap: z
      .object({
        swapBehavior: z
          .enum(['', 'NoSwap', 'LimitedSwap'], {
            message: 'must be one of: "", "LimitedSwap" or "NoSwap"',
          })
          .default(''),
      })
      .default({ swapBehavior: '' }),
    containerLogMaxWorkers: z.number().int().min(1).default(1),
    // Upstream validation: a shorter interval would make the rotation loop spin on the runtime.
    containerLogMonitorInterval: duration
      .refine((text) => safeDurationMs(text) >= 3000, {
        message: 'must be a positive time duration greater than or equal to 3s',
      })
      .default('10s'),
    configMapAndSecretChangeDetectionStrategy: z.enum(['Get', 'Cache', 'Watch']).default('Watch'),
    reservedSystemCPUs: z.string().default(''),
    showHiddenMetricsForVersion: z.string().default(''),
    systemReservedCgroup: z.string().default(''),
    kubeReservedCgroup: z.string().default(''),
    volumePluginDir: z.string().default('/usr/libexec/kubernetes/kubelet-plugins/volume/exec/'),
    kernelMemcgNotification: z.boolean().default(false),
    logging: loggingConfiguration.default(defaultLogging()),
    enableSystemLogHandler: z.boolean().default(true),
    enableSystemLogQuery: z.boolean().default(false),
    shutdownGracePeriodByPodPriority: z
      .array(z.object({ priority: z.number().int(), shutdownGracePeriodSeconds: z.number().int().min(0) }))
      .default([]),
    crashLoopBackOff: z.object({ maxContainerRestartPeriod: positiveDuration.optional() }).default({}),
    reservedMemory: z.array(z.object({ numaNode: z.number().int().min(0), limits: stringMap })).default([]),
    enableProfilingHandler: z.boolean().default(true),
    enableDebugFlagsHandler: z.boolean().default(true),
    // MemoryQoS (alpha in v1.36): memory.high's throttling factor, and whether requests become memory.min / memory.low.
    memoryThrottlingFactor: z.number().gt(0).max(1).default(0.9),
    memoryReservationPolicy: z.enum(['None', 'TieredReservation']).default('None'),
    // component-base's ValidateTracingConfiguration (the field is warned about: no tracing here).
    tracing: z
      .object({
        endpoint: z
          .string()
          .superRefine((endpoint, ctx) => {
            const problem = tracingEndpointProblem(endpoint);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          })
          .optional(),
        samplingRatePerMillion: z
          .number()
          .int()
          .min(0, { message: 'sampling rate must be positive' })
          .max(1_000_000, { message: 'sampling rate per million must be less than or equal to one million' })
          .optional(),
      })
      .optional(),
    // v1.35+: upstream refuses to start on a cgroup v1 host unless this is set to false.
    failCgroupV1: z.boolean().default(true),
    userNamespaces: z.object({ idsPerPod: z.number().int().positive().optional() }).optional(),
  });
}

/** The zod schema buildKubeletConfigurationSchema returns: it defaults and validates a decoded configuration. */
export type KubeletConfigurationSchema = ReturnType<typeof buildKubeletConfigurationSchema>;
/**
 * A defaulted, validated kubelet.config.k8s.io/v1beta1 KubeletConfiguration with upstream's field names; durations
 * stay Go duration strings such as "10s" (parseDuration turns them into milliseconds).
 */
export type KubeletConfiguration = z.output<KubeletConfigurationSchema>;
/** What a configuration file may contain: every field optional. */
export type KubeletConfigurationInput = z.input<KubeletConfigurationSchema>;
