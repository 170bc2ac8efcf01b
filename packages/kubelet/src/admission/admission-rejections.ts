import type { Counter } from 'prom-client';

/**
 * The reasons kubelet_admission_rejections_total counts by name (upstream's
 * admissionRejectionReasons in pkg/kubelet/kubelet.go, v1.36): anything else counts as
 * `OutOfExtendedResources` when it is an `OutOf<resource>`, else `Other`, so the label keeps few
 * values. The taint entry is upstream's message text, not a reason, so a NoExecute taint refusal
 * (reason `TaintToleration`) counts as `Other` there, and here too.
 */
const COUNTED_REASONS: ReadonlySet<string> = new Set([
  'AppArmor',
  'PodOSSelectorNodeLabelDoesNotMatch',
  'PodOSNotSupported',
  'InvalidNodeInfo',
  'InitContainerRestartPolicyForbidden',
  'SupplementalGroupsPolicyNotSupported',
  'UnexpectedAdmissionError',
  'UnknownReason',
  'UnexpectedPredicateFailureType',
  'OutOfcpu',
  'OutOfmemory',
  'OutOfephemeral-storage',
  'OutOfpods',
  'PodLevelResourcesNotSupported',
  'PodFeatureUnsupported',
  "node(s) had taints that the pod didn't tolerate",
  'Evicted',
  'SysctlForbidden',
  'TopologyAffinityError',
  'NodeShutdown',
  'VolumeAttachmentLimitExceeded',
]);

/** The `reason` label a rejection with `reason` is counted under (upstream's recordAdmissionRejection). */
export function admissionRejectionLabel(reason: string): string {
  if (COUNTED_REASONS.has(reason)) return reason;
  return reason.startsWith('OutOf') ? 'OutOfExtendedResources' : 'Other';
}

/** Counts one pod refused (at admission, or by its sync for an exhausted volume attach limit). */
export function recordAdmissionRejection(counter: Counter<'reason'>, reason: string): void {
  counter.inc({ reason: admissionRejectionLabel(reason) });
}
