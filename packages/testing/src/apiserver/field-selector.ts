import { badRequest } from './api-error';
import type { ResourceType } from './resource-types';

/** One parsed field-selector requirement (`field=value`, `field==value` or `field!=value`). */
export interface FieldRequirement {
  /** The field label, e.g. `spec.nodeName` or `metadata.name`. */
  field: string;
  /** True for `!=`. */
  negate: boolean;
  /** The value compared with the field's (an unset field reads as `''`, unset boolean labels as `false`). */
  value: string;
}

/** A parsed field selector: an object matches when it meets every requirement (an empty one matches all). */
export type FieldSelector = FieldRequirement[];

/** Parse `a=b,c!=d` and reject field labels the resource does not index, like the real server. */
export function parseFieldSelector(input: string | null | undefined, rt: ResourceType): FieldSelector {
  if (!input) return [];
  return input
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((part) => {
      const m = /^([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
      if (!m) throw badRequest(`invalid selector: '${part}'; can't understand '${part}'`);
      const field = m[1] as string;
      if (field !== 'metadata.name' && field !== 'metadata.namespace' && !rt.fieldLabels.includes(field)) {
        throw badRequest(`field label not supported: ${field}`);
      }
      return { field, negate: m[2] === '!=', value: m[3] ?? '' };
    });
}

function fieldValue(obj: unknown, path: string): string {
  // `source` on events is `source.component` in the real field set.
  const segments = path === 'source' ? ['source', 'component'] : path.split('.');
  let cur: unknown = obj;
  for (const seg of segments) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) {
    // Booleans the server exposes as field labels default to "false".
    return path === 'spec.unschedulable' || path === 'spec.hostNetwork' ? 'false' : '';
  }
  return String(cur);
}

export function matchesFields(selector: FieldSelector, obj: unknown): boolean {
  return selector.every((req) => (fieldValue(obj, req.field) === req.value) !== req.negate);
}
