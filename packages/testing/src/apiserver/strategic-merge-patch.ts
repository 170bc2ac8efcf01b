import { badRequest } from './api-error';

/**
 * Merge keys of the list fields node agents patch, keyed by `Kind:dotted.path` (list items
 * are transparent in the path). Lists not named here replace atomically, as upstream's
 * `patchStrategy` tags do for fields without `merge`.
 */
const MERGE_KEYS: Record<string, string> = {
  'Pod:spec.containers': 'name',
  'Pod:spec.initContainers': 'name',
  'Pod:spec.ephemeralContainers': 'name',
  'Pod:spec.containers.ports': 'containerPort',
  'Pod:spec.initContainers.ports': 'containerPort',
  'Pod:spec.containers.env': 'name',
  'Pod:spec.initContainers.env': 'name',
  'Pod:spec.containers.volumeMounts': 'mountPath',
  'Pod:spec.initContainers.volumeMounts': 'mountPath',
  'Pod:spec.volumes': 'name',
  'Pod:spec.imagePullSecrets': 'name',
  'Pod:status.conditions': 'type',
  'Pod:status.podIPs': 'ip',
  'Pod:status.hostIPs': 'ip',
  'Node:status.conditions': 'type',
  'Node:status.addresses': 'type',
  'Node:spec.podCIDRs': '',
  'Service:spec.ports': 'port',
  'ServiceAccount:secrets': 'name',
  '*:metadata.ownerReferences': 'uid',
  '*:metadata.finalizers': '',
};

function mergeKeyFor(kind: string, path: string): string | undefined {
  return MERGE_KEYS[`${kind}:${path}`] ?? MERGE_KEYS[`*:${path}`];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mergeList(kind: string, path: string, base: unknown[], patch: unknown[]): unknown[] {
  const key = mergeKeyFor(kind, path);
  if (key === undefined) {
    // Atomic list: `$patch: replace` markers aside, the patch wins.
    return patch.filter((p) => !(isObj(p) && p.$patch)).map((p) => structuredClone(p));
  }
  if (key === '') {
    // Primitive list with merge strategy: union, keeping order.
    const out = [...base];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObj(p) && p.$patch === 'replace')).map((p) => structuredClone(p));
  }
  const out = base.map((b) => structuredClone(b));
  for (const item of patch) {
    if (!isObj(item))
      throw badRequest(`strategic merge patch: list ${path} expects objects with merge key ${key}`);
    const idx = out.findIndex((b) => isObj(b) && b[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = mergeObject(kind, path, out[idx] as Obj, item);
    else out.push(mergeObject(kind, path, {}, item));
  }
  return out;
}

function mergeObject(kind: string, path: string, base: Obj, patch: Obj): Obj {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return {};
  const out: Obj = { ...base };
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const list = Array.isArray(out[field]) ? (out[field] as unknown[]) : [];
      out[field] = list.filter((x) => !(v as unknown[]).includes(x));
      continue;
    }
    const childPath = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = mergeList(kind, childPath, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
    } else if (isObj(v)) {
      out[k] = mergeObject(kind, childPath, isObj(out[k]) ? (out[k] as Obj) : {}, v);
    } else {
      out[k] = v;
    }
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

/** Strategic merge patch for the built-in kinds' fields that node agents and kubectl patch. */
export function applyStrategicMergePatch(kind: string, target: Obj, patch: unknown): Obj {
  if (!isObj(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return mergeObject(kind, '', target, patch);
}
