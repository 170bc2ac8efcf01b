import type { V1NodeCondition } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/**
 * A node condition as this package makes it (Date times) or as read back from the API server
 * (its JSON: RFC 3339 strings); both are sent the same way.
 */
export type NodeConditionLike = V1NodeCondition | Wire<V1NodeCondition>;

/** What the kubelet observed this round, per condition. */
export interface ObservedConditions {
  ready: boolean;
  /** Why not ready (joined like upstream's error aggregate). */
  notReadyErrors?: string[];
  memoryPressure?: boolean;
  diskPressure?: boolean;
  pidPressure?: boolean;
}

interface ConditionText {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

// Reasons and messages are the kubelet's own (pkg/kubelet/nodestatus/setters.go).
function pressure(kind: 'Memory' | 'Disk' | 'PID', on: boolean): ConditionText {
  switch (kind) {
    case 'Memory':
      return on
        ? {
            status: 'True',
            reason: 'KubeletHasInsufficientMemory',
            message: 'kubelet has insufficient memory available',
          }
        : {
            status: 'False',
            reason: 'KubeletHasSufficientMemory',
            message: 'kubelet has sufficient memory available',
          };
    case 'Disk':
      return on
        ? { status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
        : { status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' };
    case 'PID':
      return on
        ? {
            status: 'True',
            reason: 'KubeletHasInsufficientPID',
            message: 'kubelet has insufficient PID available',
          }
        : {
            status: 'False',
            reason: 'KubeletHasSufficientPID',
            message: 'kubelet has sufficient PID available',
          };
  }
}

function readyText(obs: ObservedConditions): ConditionText {
  if (obs.ready)
    return { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  const errs = obs.notReadyErrors ?? [];
  const message = errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`;
  return { status: 'False', reason: 'KubeletNotReady', message };
}

/** The conditions this package manages, in upstream's order. */
export const CONDITION_ORDER = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'] as const;

/**
 * The node's conditions after this round: every managed condition gets lastHeartbeatTime =
 * now; lastTransitionTime moves only when the status flips (or the condition is new).
 * Conditions this package does not manage (set by others) are kept as they were.
 */
export function nextConditions(
  previous: readonly NodeConditionLike[] | undefined,
  observed: ObservedConditions,
  now: Date,
): NodeConditionLike[] {
  const texts: Record<(typeof CONDITION_ORDER)[number], ConditionText> = {
    MemoryPressure: pressure('Memory', observed.memoryPressure ?? false),
    DiskPressure: pressure('Disk', observed.diskPressure ?? false),
    PIDPressure: pressure('PID', observed.pidPressure ?? false),
    Ready: readyText(observed),
  };
  const prev = new Map((previous ?? []).map((c) => [c.type, c]));
  const managed = CONDITION_ORDER.map((type): V1NodeCondition => {
    const t = texts[type];
    const old = prev.get(type);
    const transitioned = !old || old.status !== t.status;
    return {
      type,
      status: t.status,
      reason: t.reason,
      message: t.message,
      lastHeartbeatTime: now,
      lastTransitionTime: transitioned ? now : (toDate(old.lastTransitionTime) ?? now),
    };
  });
  const others = (previous ?? []).filter((c) => !(CONDITION_ORDER as readonly string[]).includes(c.type));
  return [...others, ...managed];
}

function toDate(v: Date | string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  return v instanceof Date ? v : new Date(v);
}

/** Upstream's node event reason of each condition status (pkg/kubelet/nodestatus/setters.go). */
const CONDITION_EVENT_REASONS: Record<(typeof CONDITION_ORDER)[number], { True: string; False: string }> = {
  MemoryPressure: { True: 'NodeHasInsufficientMemory', False: 'NodeHasSufficientMemory' },
  DiskPressure: { True: 'NodeHasDiskPressure', False: 'NodeHasNoDiskPressure' },
  PIDPressure: { True: 'NodeHasInsufficientPID', False: 'NodeHasSufficientPID' },
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
};

/**
 * The Normal node events upstream's condition setters record this round: one per managed
 * condition that is new or whose status changed (e.g. `NodeHasSufficientMemory` when the
 * condition first appears, `NodeNotReady` when Ready turns False), in the setters' order.
 */
export function conditionEventReasons(
  previous: readonly NodeConditionLike[] | undefined,
  next: readonly NodeConditionLike[],
): string[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c.status]));
  const reasons: string[] = [];
  for (const type of CONDITION_ORDER) {
    const status = next.find((c) => c.type === type)?.status;
    if (status !== 'True' && status !== 'False') continue;
    if (before.get(type) !== status) reasons.push(CONDITION_EVENT_REASONS[type][status]);
  }
  return reasons;
}
