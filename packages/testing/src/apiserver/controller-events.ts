import { randomBytes } from 'node:crypto';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

const EVENTS = findResourceType('', 'v1', 'events') as ResourceType;

export interface ControllerEvent {
  /** The object the event is about (its kind, namespace, name, uid, apiVersion). */
  object: KubeObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** source.component / reportingComponent, e.g. `default-scheduler`, `replicaset-controller`. */
  component: string;
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * Write a core/v1 Event as client-go's event recorder does: named `<object>.<hex>`, in the
 * object's namespace (cluster-scoped objects such as Nodes: `default`), count 1. A Node's
 * reference carries the node name as uid, as upstream's node controllers make it. Failure to
 * record (namespace being deleted) is not the controller's failure, as upstream.
 */
export function recordEvent(registry: ResourceRegistry, now: Date, e: ControllerEvent): void {
  const meta = e.object.metadata;
  const namespace = meta.namespace ?? 'default';
  const stamp = rfc3339(now);
  const hex = `${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`;
  try {
    registry.create(EVENTS, namespace, {
      metadata: { name: `${meta.name}.${hex}`, namespace },
      involvedObject: {
        kind: e.object.kind,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        name: meta.name,
        uid: e.object.kind === 'Node' ? meta.name : meta.uid,
        apiVersion: e.object.apiVersion,
        ...(e.object.kind === 'Node' ? {} : { resourceVersion: meta.resourceVersion }),
      },
      reason: e.reason,
      message: e.message,
      source: { component: e.component },
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
      type: e.type,
      eventTime: null,
      reportingComponent: e.component,
      reportingInstance: '',
    });
  } catch {
    // An event is best effort (client-go drops it after retries too).
  }
}
