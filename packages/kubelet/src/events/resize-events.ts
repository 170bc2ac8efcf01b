import type { Pod } from '../api/pod-types';
import { canonicalResources } from '../api/resize-quantities';

/** Upstream pkg/kubelet/events reasons of an in-place resize. */
export const resizeEventReasons = {
  started: 'ResizeStarted',
  completed: 'ResizeCompleted',
  deferred: 'ResizeDeferred',
  infeasible: 'ResizeInfeasible',
  error: 'ResizeError',
} as const;

/**
 * Upstream podResizeMessage: `<prefix>: <summary>`, the summary being JSON of the pod's init
 * containers and containers (name and resources, in spec order), the generation and, when
 * given, the error — the field order and quantity spelling of Go's encoding/json.
 */
export function podResizeMessage(pod: Pod, generation: number, prefix: string, error = ''): string {
  const entry = (c: { name: string; resources?: Pod['spec']['containers'][number]['resources'] }) => ({
    name: c.name,
    resources: canonicalResources(c.resources),
  });
  const summary: Record<string, unknown> = {};
  const init = pod.spec.initContainers ?? [];
  if (init.length > 0) summary.initContainers = init.map(entry);
  if (pod.spec.containers.length > 0) summary.containers = pod.spec.containers.map(entry);
  summary.generation = generation;
  if (error !== '') summary.error = error;
  return `${prefix}: ${JSON.stringify(summary)}`;
}

export const resizeStartedMessage = (pod: Pod, generation: number) =>
  podResizeMessage(pod, generation, 'Pod resize started');
export const resizeCompletedMessage = (pod: Pod, generation: number) =>
  podResizeMessage(pod, generation, 'Pod resize completed');
export const resizeErrorMessage = (pod: Pod, generation: number, error: string) =>
  podResizeMessage(pod, generation, 'Pod resize error', error);
/** `Pod resize <reason>: {...,"error":"<message>"}`, reason as the admit handler gave it (OutOfcpu, Infeasible). */
export const resizePendingMessage = (pod: Pod, generation: number, reason: string, message: string) =>
  podResizeMessage(pod, generation, `Pod resize ${reason}`, message);
