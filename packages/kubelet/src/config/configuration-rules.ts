import { isAbsolute, normalize } from 'node:path';
import { KUBERNETES_VERSION, parseDuration } from '@nodeagent/primitives';
import { parseCgroupRoot } from '../cgroups/cgroup-name';
import { InvalidConfigError } from '../errors';
import type { KubeletConfiguration } from './configuration-fields';
import { cpuListProblem } from './cpu-list';
import { parseEvictionThresholds, parseThresholdValue } from './eviction-thresholds';
import { featureGateEnabled } from './feature-gate-rules';
import { type FieldProblem, featureGatedFieldProblems } from './feature-gated-field-rules';
import { parseAllowlistPattern } from './image-allowlist-pattern';
import { parseQOSReserved } from './qos-reserved';
import { reservedMemoryProblems } from './reserved-memory-rules';

/** The release before ours ("1.35"): the only one whose hidden metrics may be shown. */
const [major, minor] = KUBERNETES_VERSION.slice(1).split('.').map(Number);
const previousMinor = `${major}.${minor! - 1}`;

/** A broken rule across fields: the error (naming one field) and every field the rule reads. */
export interface CrossFieldProblem {
  error: InvalidConfigError;
  fields: readonly string[];
}

/**
 * Rules that involve more than one field, or more than one value's shape (upstream
 * pkg/kubelet/apis/config/validation ValidateKubeletConfiguration), each reported once.
 */
export function crossFieldErrors(config: KubeletConfiguration): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const add = (fields: readonly string[], value: unknown, reason: string) =>
    problems.push({ error: new InvalidConfigError(fields[0]!, value, reason), fields });
  const collect = (fields: readonly string[], check: () => void) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error;
      problems.push({ error, fields });
    }
  };

  if (config.imageGCLowThresholdPercent >= config.imageGCHighThresholdPercent)
    add(
      ['imageGCLowThresholdPercent', 'imageGCHighThresholdPercent'],
      config.imageGCLowThresholdPercent,
      `must be less than imageGCHighThresholdPercent (${config.imageGCHighThresholdPercent})`,
    );
  if (
    parseDuration(config.imageMaximumGCAge) !== 0 &&
    parseDuration(config.imageMaximumGCAge) <= parseDuration(config.imageMinimumGCAge)
  )
    add(
      ['imageMaximumGCAge', 'imageMinimumGCAge'],
      config.imageMaximumGCAge,
      `must be greater than imageMinimumGCAge (${config.imageMinimumGCAge})`,
    );
  if (
    config.serializeImagePulls &&
    config.maxParallelImagePulls !== undefined &&
    config.maxParallelImagePulls > 1
  )
    add(
      ['maxParallelImagePulls', 'serializeImagePulls'],
      config.maxParallelImagePulls,
      'cannot be larger than 1 unless serializeImagePulls (--serialize-image-pulls) is set to false',
    );
  // Upstream, with KubeletEnsureSecretPulledImages on (featureGatedFieldProblems refuses both
  // fields without it): an allowlist only means something under NeverVerifyAllowlistedImages (its
  // message misspells the policy field, kept as written); otherwise the first bad pattern is reported.
  const allowlist = config.preloadedImagesVerificationAllowlist;
  if (featureGateEnabled(config.featureGates, 'KubeletEnsureSecretPulledImages')) {
    if (
      allowlist.length > 0 &&
      config.imagePullCredentialsVerificationPolicy !== 'NeverVerifyAllowlistedImages'
    )
      add(
        ['preloadedImagesVerificationAllowlist', 'imagePullCredentialsVerificationPolicy'],
        allowlist,
        'can\'t set `preloadedImagesVerificationAllowlist` if `imagePullCredentialsVertificationPolicy` is not "NeverVerifyAllowlistedImages"',
      );
    else
      for (const pattern of allowlist) {
        const before = problems.length;
        collect(['preloadedImagesVerificationAllowlist'], () => parseAllowlistPattern(pattern));
        if (problems.length > before) break;
      }
  }
  if (config.readOnlyPort !== 0 && config.readOnlyPort === config.port)
    add(['readOnlyPort', 'port'], config.readOnlyPort, 'must differ from port');

  for (const [fields, value, reason] of allocatableEnforcementProblems(config)) add(fields, value, reason);
  if (config.systemCgroups !== '' && config.cgroupRoot === '')
    add(
      ['systemCgroups', 'cgroupRoot'],
      config.systemCgroups,
      'was specified and cgroupRoot (--cgroup-root) was not specified',
    );
  for (const [fields, value, reason] of reservedMemoryProblems(config)) add(fields, value, reason);
  const cpuList = cpuListProblem(config.reservedSystemCPUs);
  if (cpuList)
    add(
      ['reservedSystemCPUs'],
      config.reservedSystemCPUs,
      `unable to parse reservedSystemCPUs (--reserved-cpus) ${config.reservedSystemCPUs}, error: ${cpuList}`,
    );
  // Upstream's server parses it at every start, whatever the QOSReserved gate says.
  const qosReserved = parseQOSReserved(config.qosReserved);
  if ('error' in qosReserved)
    add(['qosReserved'], config.qosReserved, `--qos-reserved value failed to parse: ${qosReserved.error}`);
  // component-base: only the previous minor release's hidden metrics can be shown.
  if (config.showHiddenMetricsForVersion !== '' && config.showHiddenMetricsForVersion !== previousMinor)
    add(
      ['showHiddenMetricsForVersion'],
      config.showHiddenMetricsForVersion,
      `must be omitted or have the value '${previousMinor}'; only the previous minor version is allowed`,
    );
  if (
    config.reservedSystemCPUs !== '' &&
    (config.systemReservedCgroup !== '' || config.kubeReservedCgroup !== '')
  )
    add(
      ['reservedSystemCPUs', 'systemReservedCgroup', 'kubeReservedCgroup'],
      config.reservedSystemCPUs,
      "can't be used with systemReservedCgroup (--system-reserved-cgroup) or kubeReservedCgroup (--kube-reserved-cgroup)",
    );

  for (const [fields, value, reason] of featureGatedFieldProblems(config)) add(fields, value, reason);
  for (const [fields, reason] of systemLogQueryProblems(config)) add(fields, true, reason);

  // Upstream: the path is a metrics label, so ASCII only (its message's typo kept).
  if ([...config.podLogsDir].some((c) => c.charCodeAt(0) > 0x7f))
    add(['podLogsDir'], config.podLogsDir, 'pod logs path mut contains ASCII characters only');
  if (config.podLogsDir === '' || !isAbsolute(config.podLogsDir))
    add(['podLogsDir'], config.podLogsDir, 'pod logs path must be an absolute path');
  else if (normalize(config.podLogsDir).replace(/(.)\/$/, '$1') !== config.podLogsDir)
    add(['podLogsDir'], config.podLogsDir, 'pod logs path must be normalized');

  for (const field of ['evictionHard', 'evictionSoft'] as const)
    collect([field], () => parseEvictionThresholds(config[field], field));
  for (const [signal, raw] of Object.entries(config.evictionMinimumReclaim))
    collect(['evictionMinimumReclaim'], () => {
      parseEvictionThresholds({ [signal]: '0' }, 'evictionMinimumReclaim');
      parseThresholdValue(raw, `evictionMinimumReclaim[${signal}]`);
    });
  collect(['cgroupRoot', 'cgroupDriver'], () => parseCgroupRoot(config.cgroupRoot, config.cgroupDriver));
  for (const signal of Object.keys(config.evictionSoft))
    if (!(signal in config.evictionSoftGracePeriod))
      add(
        [`evictionSoftGracePeriod[${signal}]`, 'evictionSoft', 'evictionSoftGracePeriod'],
        undefined,
        'a soft threshold needs a grace period',
      );
  return problems;
}

/**
 * enforceNodeAllocatable: upstream refuses what it could not enforce. v1.36 added the
 * `-compressible` levels (CPU only): each needs the same cgroup as its full level, the two may not
 * be combined, and a level may not repeat (the reasons are v1.36's words).
 */
function allocatableEnforcementProblems(config: KubeletConfiguration): FieldProblem[] {
  const levels = config.enforceNodeAllocatable;
  const problems: FieldProblem[] = [];
  if (!config.cgroupsPerQOS && levels.length > 0)
    problems.push([
      ['enforceNodeAllocatable', 'cgroupsPerQOS'],
      levels,
      'is not supported unless cgroupsPerQOS (--cgroups-per-qos) is set to true (set enforceNodeAllocatable to [] without the QoS cgroups)',
    ]);
  const reserved = [
    ['system-reserved', 'systemReservedCgroup'],
    ['kube-reserved', 'kubeReservedCgroup'],
  ] as const;
  for (const [level, cgroupField] of reserved) {
    const compressible = `${level}-compressible` as const;
    if (levels.includes(level) && levels.includes(compressible))
      problems.push([
        ['enforceNodeAllocatable'],
        levels,
        `both "${level}" and "${compressible}" cannot be specified together in enforceNodeAllocatable (--enforce-node-allocatable)`,
      ]);
    if ((levels.includes(level) || levels.includes(compressible)) && config[cgroupField] === '')
      problems.push([
        [cgroupField, 'enforceNodeAllocatable'],
        config[cgroupField],
        `must be specified when "${level}" or "${compressible}" included in enforceNodeAllocatable (--enforce-node-allocatable)`,
      ]);
  }
  const repeated = levels.filter((level, i) => levels.indexOf(level) !== i);
  for (const level of new Set(repeated))
    problems.push([
      ['enforceNodeAllocatable'],
      levels,
      `duplicated enforcements "${level}" in enforceNodeAllocatable (--enforce-node-allocatable)`,
    ]);
  if (levels.includes('none') && levels.length > 1)
    problems.push([
      ['enforceNodeAllocatable'],
      levels,
      'may not contain additional enforcements when "none" is specified',
    ]);
  return problems;
}

/** enableSystemLogQuery's two requirements, as upstream's validation words them. */
function systemLogQueryProblems(config: KubeletConfiguration): [readonly string[], string][] {
  if (!config.enableSystemLogQuery) return [];
  const problems: [readonly string[], string][] = [];
  // Upstream's wording for the gate names enableSystemLogHandler although the field is the query.
  if (!featureGateEnabled(config.featureGates, 'NodeLogQuery'))
    problems.push([
      ['enableSystemLogQuery', 'featureGates'],
      'NodeLogQuery feature gate is required for enableSystemLogHandler',
    ]);
  if (!config.enableSystemLogHandler)
    problems.push([['enableSystemLogQuery', 'enableSystemLogHandler'], 'needs enableSystemLogHandler']);
  return problems;
}
