import { ApiError } from './api-error';

/**
 * What kube-apiserver's default admission plugins add to a Pod on create: ServiceAccount (the
 * "default" service account when none is named; mirror pods are left alone), DefaultTolerationSeconds
 * (NoExecute tolerations of the not-ready and unreachable taints for 300 s, unless the pod
 * already tolerates them) and Priority (the priority of the pod's class; 0 and
 * PreemptLowerPriority without one, as no class is marked globalDefault here).
 */

type Obj = Record<string, unknown>;

/** DefaultTolerationSeconds' default for both taints (--default-not-ready-toleration-seconds). */
export const DEFAULT_TOLERATION_SECONDS = 300;

/** The built-in PriorityClasses every cluster has. */
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/** kube-apiserver's --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds. */
export interface AdmissionOptions {
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
}

export function admitPodCreate(pod: Obj, options: AdmissionOptions = {}): void {
  const spec = (pod.spec ?? {}) as Obj;
  const annotations = ((pod.metadata as Obj | undefined)?.annotations ?? {}) as Obj;
  if (!spec.serviceAccountName && annotations['kubernetes.io/config.mirror'] === undefined) {
    spec.serviceAccountName = 'default';
    spec.serviceAccount = 'default';
  }
  addDefaultTolerations(spec, options);
  assignPriority(pod, spec);
}

/**
 * The admission plugins that also act on updates of the main pod resource: DefaultTolerationSeconds
 * adds its two tolerations back when an update leaves them out (so replacing a pod's tolerations
 * keeps them, and the only-additions rule of pod updates holds).
 */
export function admitPodUpdate(pod: Obj, options: AdmissionOptions = {}): void {
  const spec = (pod.spec ?? {}) as Obj;
  addDefaultTolerations(spec, options);
  pod.spec = spec;
}

function addDefaultTolerations(spec: Obj, options: AdmissionOptions): void {
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
  const tolerates = (key: string) =>
    tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const added: Obj[] = [];
  const seconds: [string, number][] = [
    ['node.kubernetes.io/not-ready', options.defaultNotReadyTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS],
    [
      'node.kubernetes.io/unreachable',
      options.defaultUnreachableTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS,
    ],
  ];
  for (const [key, tolerationSeconds] of seconds) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds });
  }
  if (added.length > 0) spec.tolerations = [...tolerations, ...added];
}

function assignPriority(pod: Obj, spec: Obj): void {
  const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
  const value = className ? SYSTEM_PRIORITY_CLASSES[className] : 0;
  const name = String((pod.metadata as Obj | undefined)?.name ?? '');
  if (value === undefined) {
    throw forbidden(name, `no PriorityClass with name ${className} was found`);
  }
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
    throw forbidden(
      name,
      `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
    );
  }
  spec.priority = value;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
}

function forbidden(name: string, reason: string): ApiError {
  return new ApiError(403, 'Forbidden', `pods "${name}" is forbidden: ${reason}`, { name, kind: 'pods' });
}
