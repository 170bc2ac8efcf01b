import { ApiError, badRequest, conflict } from './api-error';
import { applyJsonPatch, applyMergePatch } from './json-patch';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import type { ResourceType } from './resource-types';

type Obj = Record<string, unknown>;

/** The label selector of a workload as Scale's status.selector string (`a=b,c in (d)`). */
function selectorString(selector: Obj | undefined): string {
  const parts = Object.entries((selector?.matchLabels as Record<string, string> | undefined) ?? {}).map(
    ([k, v]) => `${k}=${v}`,
  );
  for (const e of (selector?.matchExpressions as { key: string; operator: string; values?: string[] }[]) ??
    []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

/** autoscaling/v1 Scale of a workload, as the scale subresource presents it. */
export function scaleOf(o: KubeObject): KubeObject {
  const spec = (o.spec ?? {}) as Obj;
  const status = (o.status ?? {}) as Obj;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: Number(spec.replicas ?? 0) },
    status: {
      replicas: Number(status.replicas ?? 0),
      selector: selectorString(spec.selector as Obj | undefined),
    },
  };
}

/**
 * GET / PUT / PATCH of `<workload>/scale` (what `kubectl scale` uses): only spec.replicas can
 * change; a resourceVersion in the body must match the workload's.
 */
export function serveScale(
  registry: ResourceRegistry,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  method: string,
  contentType: string,
  body: string,
): KubeObject {
  const current = registry.get(rt, namespace, name);
  if (method === 'GET') return scaleOf(current);
  let next: unknown;
  try {
    const parsed = body.trim() ? JSON.parse(body) : {};
    if (method === 'PUT') next = parsed;
    else if (method === 'PATCH') {
      const type = contentType.split(';')[0]?.trim();
      next =
        type === 'application/json-patch+json'
          ? applyJsonPatch(scaleOf(current), parsed)
          : applyMergePatch(scaleOf(current), parsed);
    } else
      throw new ApiError(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      );
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`error decoding scale: ${(err as Error).message}`);
  }
  const scale = (next ?? {}) as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
  if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== current.metadata.resourceVersion)
    throw conflict(rt.plural, rt.group, name);
  const replicas = scale.spec?.replicas;
  if (!Number.isInteger(replicas) || (replicas as number) < 0) {
    throw new ApiError(
      422,
      'Invalid',
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      {
        name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: 'must be greater than or equal to 0',
            field: 'spec.replicas',
          },
        ],
      },
    );
  }
  const updated = registry.update(rt, namespace, name, {
    ...current,
    spec: { ...((current.spec as Obj) ?? {}), replicas },
  });
  return scaleOf(updated);
}
