import { parseDuration } from '@nodeagent/primitives';

/**
 * Upstream's v1beta1 SetDefaults_KubeletConfiguration treats a Go zero value as "unset": kubeadm
 * writes `syncFrequency: 0s`, `containerRuntimeEndpoint: ""`, `healthzPort: null`… and the
 * kubelet runs with the defaults. This turns such values into absent keys so the schema's
 * defaults apply, before flags and validation. Pointer fields (`*bool`, `*int32`) are only
 * defaulted when absent or null: an explicit `false` or `0` there is kept, as upstream.
 */

type ConfigObject = Record<string, unknown>;

/** Non-pointer duration fields upstream defaults when they are 0. */
const zeroDurationDefaulted = [
  'syncFrequency',
  'fileCheckFrequency',
  'httpCheckFrequency',
  'streamingConnectionIdleTimeout',
  'nodeStatusUpdateFrequency',
  'imageMinimumGCAge',
  'volumeStatsAggPeriod',
  'cpuManagerReconcilePeriod',
  'runtimeRequestTimeout',
  'evictionPressureTransitionPeriod',
];

/** Non-pointer string fields upstream defaults when they are "". */
const emptyStringDefaulted = [
  'address',
  'healthzBindAddress',
  'cgroupDriver',
  'cpuManagerPolicy',
  'memoryManagerPolicy',
  // v1.36: "" is None (no memory.min / memory.low).
  'memoryReservationPolicy',
  'topologyManagerPolicy',
  'topologyManagerScope',
  'hairpinMode',
  'contentType',
  'containerLogMaxSize',
  'configMapAndSecretChangeDetectionStrategy',
  'volumePluginDir',
  'containerRuntimeEndpoint',
  'podLogsDir',
];

/** Non-pointer integer fields upstream defaults when they are 0. */
const zeroIntegerDefaulted = [
  'port',
  'registryBurst',
  'eventBurst',
  'nodeLeaseDurationSeconds',
  'maxPods',
  'maxOpenFiles',
  'kubeAPIBurst',
];

/** Upstream's defaults for evictionHard, also merged in when mergeDefaultEvictionSettings is true. */
export const defaultEvictionHard: Readonly<Record<string, string>> = Object.freeze({
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
});

/** A duration that parses and is above zero (one worth copying into another field). */
function isPositiveDuration(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return parseDuration(value) > 0;
  } catch {
    return false;
  }
}

function isZeroDuration(value: unknown): boolean {
  if (value === 0) return true;
  if (typeof value !== 'string') return false;
  try {
    return parseDuration(value) === 0;
  } catch {
    return false;
  }
}

/** Drops null values at every level (a Go decoder leaves the zero value for them). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  const out: ConfigObject = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = withoutNulls(item);
  return out;
}

function nested(object: ConfigObject, key: string): ConfigObject | undefined {
  const value = object[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as ConfigObject)
    : undefined;
}

/** Returns a copy of a decoded v1beta1 object with upstream's zero-value defaulting applied. */
export function applyV1beta1ZeroDefaults(decoded: Record<string, unknown>): Record<string, unknown> {
  const out = withoutNulls(structuredClone(decoded)) as ConfigObject;

  // nodeStatusReportFrequency follows an explicitly set nodeStatusUpdateFrequency (upstream's
  // backward-compatibility rule); decided before the update frequency itself is defaulted. An
  // invalid update frequency is not copied: its error is the update frequency's alone.
  if ('nodeStatusReportFrequency' in out && isZeroDuration(out.nodeStatusReportFrequency))
    delete out.nodeStatusReportFrequency;
  if (
    !('nodeStatusReportFrequency' in out) &&
    'nodeStatusUpdateFrequency' in out &&
    isPositiveDuration(out.nodeStatusUpdateFrequency)
  )
    out.nodeStatusReportFrequency = out.nodeStatusUpdateFrequency;

  for (const key of zeroDurationDefaulted) if (key in out && isZeroDuration(out[key])) delete out[key];
  for (const key of emptyStringDefaulted) if (out[key] === '') delete out[key];
  for (const key of zeroIntegerDefaulted) if (out[key] === 0) delete out[key];
  // A negative podPidsLimit means "no pod limit" (-1), as upstream.
  if (typeof out.podPidsLimit === 'number' && out.podPidsLimit < 0) out.podPidsLimit = -1;
  // serializeImagePulls defaults to false when maxParallelImagePulls asks for parallel pulls.
  if (!('serializeImagePulls' in out))
    out.serializeImagePulls = !(
      typeof out.maxParallelImagePulls === 'number' && out.maxParallelImagePulls >= 2
    );

  const authentication = nested(out, 'authentication');
  const webhookAuthn = authentication && nested(authentication, 'webhook');
  if (webhookAuthn && isZeroDuration(webhookAuthn.cacheTTL)) delete webhookAuthn.cacheTTL;
  const authorization = nested(out, 'authorization');
  if (authorization?.mode === '') delete authorization.mode;
  const webhookAuthz = authorization && nested(authorization, 'webhook');
  if (webhookAuthz && isZeroDuration(webhookAuthz.cacheAuthorizedTTL)) delete webhookAuthz.cacheAuthorizedTTL;
  if (webhookAuthz && isZeroDuration(webhookAuthz.cacheUnauthorizedTTL))
    delete webhookAuthz.cacheUnauthorizedTTL;

  // component-base SetRecommendedLoggingConfiguration: "" format is text, 0 flush is 5s.
  const logging = nested(out, 'logging');
  if (logging?.format === '') delete logging.format;
  if (logging && isZeroDuration(logging.flushFrequency)) delete logging.flushFrequency;

  const evictionHard = nested(out, 'evictionHard');
  if (evictionHard && out.mergeDefaultEvictionSettings === true)
    out.evictionHard = { ...defaultEvictionHard, ...evictionHard };
  return out;
}
