import { parseDuration } from '@nodeagent/primitives';
import type { KubeletConfiguration } from './configuration-fields';
import { featureGateEnabled } from './feature-gate-rules';

/** A broken rule as [fields (the first is blamed), value, reason]. */
export type FieldProblem = [readonly string[], unknown, string];

/** Upstream's default cpuCFSQuotaPeriod (100ms), the only value allowed without its gate. */
const defaultCfsQuotaPeriodMs = 100;

/**
 * Upstream v1.36 ValidateKubeletConfiguration's rules for fields a feature gate guards, checked
 * against the gates as featureGates leaves them (a gate can be turned off even where it is on by
 * default): with the gate off, a field set away from its default is refused naming the gate;
 * with it on, the field's own limits apply. The reasons are upstream's words.
 */
export function featureGatedFieldProblems(config: KubeletConfiguration): FieldProblem[] {
  const on = (gate: string) => featureGateEnabled(config.featureGates, gate);
  const problems: FieldProblem[] = [];
  if (!on('CustomCPUCFSQuotaPeriod') && parseDuration(config.cpuCFSQuotaPeriod) !== defaultCfsQuotaPeriodMs)
    problems.push([
      ['cpuCFSQuotaPeriod', 'featureGates'],
      config.cpuCFSQuotaPeriod,
      'requires feature gate CustomCPUCFSQuotaPeriod',
    ]);
  if (config.serverTLSBootstrap && !on('RotateKubeletServerCertificate'))
    problems.push([
      ['serverTLSBootstrap', 'featureGates'],
      true,
      'requires feature gate RotateKubeletServerCertificate',
    ]);
  if (config.memoryReservationPolicy === 'TieredReservation' && !on('MemoryQoS'))
    problems.push([
      ['memoryReservationPolicy', 'featureGates'],
      config.memoryReservationPolicy,
      'requires MemoryQoS feature gate to be enabled',
    ]);
  problems.push(...crashLoopBackOffProblems(config, on('KubeletCrashLoopBackOffMax')));
  problems.push(...gracefulShutdownProblems(config, on));
  if (!on('KubeletEnsureSecretPulledImages')) problems.push(...imagePullFieldsWithoutGate(config));
  return problems;
}

/** crashLoopBackOff.maxContainerRestartPeriod: 1s to 300s with KubeletCrashLoopBackOffMax, unset without. */
function crashLoopBackOffProblems(config: KubeletConfiguration, gateOn: boolean): FieldProblem[] {
  const period = config.crashLoopBackOff.maxContainerRestartPeriod;
  if (period === undefined) return [];
  const field = ['crashLoopBackOff.maxContainerRestartPeriod', 'featureGates'];
  if (!gateOn)
    return [
      [
        field,
        period,
        'FeatureGate KubeletCrashLoopBackOffMax not enabled, CrashLoopBackOff.MaxContainerRestartPeriod must not be set',
      ],
    ];
  const ms = parseDuration(period);
  if (ms >= 1000 && ms <= 300_000) return [];
  return [
    [
      field,
      period,
      `CrashLoopBackOff.MaxContainerRestartPeriod (got: ${ms / 1000} seconds) must be set between 1s and 300s`,
    ],
  ];
}

/**
 * The graceful node shutdown periods: checked only with GracefulNodeShutdown on (and refused
 * without it); the per-priority list needs GracefulNodeShutdownBasedOnPodPriority and excludes
 * the two plain periods.
 */
function gracefulShutdownProblems(
  config: KubeletConfiguration,
  on: (gate: string) => boolean,
): FieldProblem[] {
  const shutdown = parseDuration(config.shutdownGracePeriod);
  const critical = parseDuration(config.shutdownGracePeriodCriticalPods);
  const byPriority = config.shutdownGracePeriodByPodPriority;
  const problems: FieldProblem[] = [];
  if (on('GracefulNodeShutdown')) {
    if (critical > shutdown)
      problems.push([
        ['shutdownGracePeriodCriticalPods', 'shutdownGracePeriod'],
        config.shutdownGracePeriodCriticalPods,
        `must be <= shutdownGracePeriod (${config.shutdownGracePeriod})`,
      ]);
    if (shutdown > 0 && shutdown < 1000)
      problems.push([
        ['shutdownGracePeriod'],
        config.shutdownGracePeriod,
        'must be either zero or otherwise >= 1 sec',
      ]);
    if (critical > 0 && critical < 1000)
      problems.push([
        ['shutdownGracePeriodCriticalPods'],
        config.shutdownGracePeriodCriticalPods,
        'must be either zero or otherwise >= 1 sec',
      ]);
  } else if (shutdown > 0 || critical > 0)
    problems.push([
      ['shutdownGracePeriod', 'shutdownGracePeriodCriticalPods', 'featureGates'],
      config.shutdownGracePeriod,
      'specifying shutdownGracePeriod or shutdownGracePeriodCriticalPods requires feature gate GracefulNodeShutdown',
    ]);
  if (byPriority.length === 0) return problems;
  if (!on('GracefulNodeShutdownBasedOnPodPriority'))
    problems.push([
      ['shutdownGracePeriodByPodPriority', 'featureGates'],
      byPriority,
      'Specifying shutdownGracePeriodByPodPriority requires feature gate GracefulNodeShutdownBasedOnPodPriority',
    ]);
  else if (shutdown > 0 || critical > 0)
    problems.push([
      ['shutdownGracePeriodByPodPriority', 'shutdownGracePeriod'],
      byPriority,
      'cannot be specified together with shutdownGracePeriod',
    ]);
  return problems;
}

/** KEP-2535's two fields must stay unset without KubeletEnsureSecretPulledImages. */
function imagePullFieldsWithoutGate(config: KubeletConfiguration): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (config.imagePullCredentialsVerificationPolicy !== '')
    problems.push([
      ['imagePullCredentialsVerificationPolicy', 'featureGates'],
      config.imagePullCredentialsVerificationPolicy,
      '`imagePullCredentialsVerificationPolicy` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled',
    ]);
  if (config.preloadedImagesVerificationAllowlist.length > 0)
    problems.push([
      ['preloadedImagesVerificationAllowlist', 'featureGates'],
      config.preloadedImagesVerificationAllowlist,
      '`preloadedImagesVerificationAllowlist` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled',
    ]);
  return problems;
}
