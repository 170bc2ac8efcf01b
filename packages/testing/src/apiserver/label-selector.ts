import { badRequest } from './api-error';

/** One parsed label-selector requirement (the string form's `=`, `!=`, `in`, `notin`, exists, `!key`). */
export interface LabelRequirement {
  /** The label key the requirement reads. */
  key: string;
  /** How the label's value is compared with `values` (`exists`/`notexists` ignore them). */
  op: 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists';
  /** The values compared against: one for `eq`/`neq`, the set for `in`/`notin`, none otherwise. */
  values: string[];
}

/** A parsed label selector: an object matches when it meets every requirement (an empty one matches all). */
export type LabelSelector = LabelRequirement[];

/** Split on commas that are not inside a `(...)` value set. */
function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const SET_RE = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)$/;
const CMP_RE = /^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/;
const KEY_RE = /^(!)?\s*([A-Za-z0-9._/-]+)$/;

/** A label selector parsed from its text form (a 400 ApiError when it does not parse). */
export function parseLabelSelector(input: string | null | undefined): LabelSelector {
  if (!input) return [];
  return splitTopLevel(input).map((part) => {
    let m = SET_RE.exec(part);
    if (m) {
      const values = (m[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      return { key: m[1] as string, op: m[2] as 'in' | 'notin', values };
    }
    m = CMP_RE.exec(part);
    if (m) {
      return { key: m[1] as string, op: m[2] === '!=' ? 'neq' : 'eq', values: [m[3] ?? ''] };
    }
    m = KEY_RE.exec(part);
    if (m) return { key: m[2] as string, op: m[1] ? 'notexists' : 'exists', values: [] };
    throw badRequest(`unable to parse requirement: found '${part}', expected: valid label selector`);
  });
}

/** Whether labels satisfy a parsed selector. */
export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((req) => {
    const has = Object.hasOwn(l, req.key);
    const value = l[req.key];
    switch (req.op) {
      case 'eq':
        return has && value === req.values[0];
      case 'neq':
        return !has || value !== req.values[0];
      case 'in':
        return has && req.values.includes(value as string);
      case 'notin':
        return !has || !req.values.includes(value as string);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
    return false;
  });
}

/** Match a structured `metav1.LabelSelector` (matchLabels + matchExpressions), as Services and slices use. */
export function matchesStructuredSelector(
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  },
  labels: Record<string, string> | undefined,
): boolean {
  const reqs: LabelSelector = Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: 'eq',
    values: [v],
  }));
  for (const e of selector.matchExpressions ?? []) {
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' }[e.operator];
    if (!op) return false;
    reqs.push({ key: e.key, op: op as LabelRequirement['op'], values: e.values ?? [] });
  }
  return matchesLabels(reqs, labels);
}
