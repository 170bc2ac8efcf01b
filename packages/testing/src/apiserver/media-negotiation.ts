/*
 * kube-apiserver's output media type negotiation (k8s.io/apiserver's negotiation package over
 * munnerz/goautoneg), for the media types the fake can answer a GET, LIST or WATCH with.
 *
 * - The Accept header is split into clauses `type/subtype;param=value;q=0.5`; a clause without
 *   `q` has q=1, and (as goautoneg) a q=0 clause is kept, only sorted last.
 * - Clauses are ordered by goautoneg's Less (higher q first; at equal q a concrete type before
 *   `*`, a concrete subtype before `*`) with Go's sort.Sort, which on headers this short is an
 *   insertion sort: stable otherwise.
 * - Each clause in that order is matched against the server's media types in their order
 *   (application/json, application/yaml, application/vnd.kubernetes.protobuf): exactly,
 *   `type/*`, or `*\/*`; the first match whose parameters the endpoint allows wins. So `*\/*`,
 *   `application/*` and an empty header all get JSON.
 * - Parameters: `as`/`g`/`v` ask for a conversion (a Table, which the fake serves as JSON);
 *   `stream` must be `watch` (anything else rules the clause out); others are ignored.
 */

export type MediaType = 'json' | 'yaml' | 'protobuf';

const SERVER_TYPES: readonly { type: string; subtype: string; media: MediaType }[] = [
  { type: 'application', subtype: 'json', media: 'json' },
  { type: 'application', subtype: 'yaml', media: 'yaml' },
  { type: 'application', subtype: 'vnd.kubernetes.protobuf', media: 'protobuf' },
];

/** The `as=` conversions a resource endpoint allows (Table and the metadata-only forms). */
const CONVERSIONS = new Set(['Table', 'PartialObjectMetadata', 'PartialObjectMetadataList']);

interface AcceptClause {
  type: string;
  subtype: string;
  q: number;
  params: Map<string, string>;
}

/** The Accept header's clauses as goautoneg.ParseAccept reads them (malformed ones dropped). */
function parseAccept(header: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...rawParams] = part.split(';');
    const [type = '', subtype, extra] = range
      .trim()
      .split('/')
      .map((t) => t.trim());
    // A bare `*` is `*/*`; any other type needs exactly one subtype.
    if (subtype === undefined ? type !== '*' : extra !== undefined) continue;
    const clause: AcceptClause = { type, subtype: subtype ?? '*', q: 1, params: new Map() };
    for (const p of rawParams) {
      const [key = '', value, more] = p.split('=');
      if (value === undefined || more !== undefined) continue;
      // strconv.ParseFloat's error leaves q at 0.
      if (key.trim() === 'q') clause.q = Number(value) || 0;
      else clause.params.set(key.trim(), value.trim());
    }
    clauses.push(clause);
  }
  return clauses;
}

/** goautoneg's accept_slice.Less. */
function before(a: AcceptClause, b: AcceptClause): boolean {
  if (a.q > b.q) return true;
  if (a.type !== '*' && b.type === '*') return true;
  return a.subtype !== '*' && b.subtype === '*';
}

/** Go's insertionSort (what sort.Sort runs on fewer than 13 elements) with `before`. */
function sortClauses(clauses: AcceptClause[]): void {
  for (let i = 1; i < clauses.length; i++) {
    for (let j = i; j > 0 && before(clauses[j] as AcceptClause, clauses[j - 1] as AcceptClause); j--) {
      const t = clauses[j] as AcceptClause;
      clauses[j] = clauses[j - 1] as AcceptClause;
      clauses[j - 1] = t;
    }
  }
}

/** What negotiation picked: the media type, and whether the clause asked for a conversion (`as=`). */
export interface NegotiatedMedia {
  media: MediaType;
  /** The clause's `as` parameter (e.g. `Table`), when it had one. */
  as?: string;
}

/**
 * The media type kube-apiserver would answer a read with under `accept`; undefined when none of
 * the clauses is acceptable (the real server's 406, which the fake answers with JSON).
 */
export function negotiateMedia(accept: string): NegotiatedMedia | undefined {
  if (accept.trim() === '') return { media: 'json' };
  const clauses = parseAccept(accept);
  sortClauses(clauses);
  for (const c of clauses) {
    for (const s of SERVER_TYPES) {
      const matches =
        (c.type === s.type && (c.subtype === s.subtype || c.subtype === '*')) ||
        (c.type === '*' && c.subtype === '*');
      if (!matches) continue;
      const stream = c.params.get('stream');
      if (stream !== undefined && stream !== '' && stream !== 'watch') continue;
      const as = c.params.get('as');
      // AllowsMediaTypeTransform: a resource endpoint converts only to these.
      if (as !== undefined && !CONVERSIONS.has(as)) continue;
      return as === undefined ? { media: s.media } : { media: s.media, as };
    }
  }
  return undefined;
}
