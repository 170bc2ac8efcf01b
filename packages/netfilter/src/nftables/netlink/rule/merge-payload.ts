// nft 1.0's statement reduction: payload matches of adjacent header fields against plain values
// (`tcp sport 1 tcp dport 2`) become one load and one comparison when both use == (or both !=)
// and the joined field fits 32 bits (or 128 when one part is already wider than 32). A
// non-match statement (verdict, counter, set, nat…) ends a run only once the run holds two
// candidates (nft 1.0.6 merges `udp sport 1 counter udp dport 2`). The joined match takes the
// place of the field nearest the header start; the other leaves only its protocol dependency
// behind (nft inserted that before merging).

import type { NftFamily } from '../../model';
import { encodeDataValue } from '../data-types';
import { isIntervalText } from './intervals';
import type { PayloadMatch, Statement } from './rule-ast';
import { payloadField, selectorType } from './selectors';

const FASTPATH_LENGTH = 4;
const REGISTER_LENGTH = 16;

function canMerge(a: PayloadMatch, b: PayloadMatch): boolean {
  if (a.base !== b.base || a.offset + a.len !== b.offset || a.op !== b.op) return false;
  const total = a.len + b.len;
  if (total > REGISTER_LENGTH) return false;
  return total <= FASTPATH_LENGTH || a.len > FASTPATH_LENGTH || b.len > FASTPATH_LENGTH;
}

interface Candidate {
  index: number;
  match: PayloadMatch;
}

function candidate(s: Statement, family: NftFamily): PayloadMatch | undefined {
  if (s.t !== 'match' || s.left.t !== 'payload' || s.right.t !== 'value') return undefined;
  if (s.op !== 'implicit' && s.op !== 'eq' && s.op !== 'neq') return undefined;
  const text = s.right.text;
  let type: string;
  let field: ReturnType<typeof payloadField>;
  let data: Buffer;
  try {
    type = selectorType(s.left, family).type;
    field = payloadField(s.left.proto, s.left.field);
    if (text.includes('/') || isIntervalText(type, text) || text.includes(',')) return undefined;
    data = encodeDataValue(type, text);
  } catch {
    return undefined; // not mergeable; the compiler reports an unknown field or bad value itself
  }
  return {
    t: 'payload-match',
    base: field.base,
    offset: field.offset,
    len: field.length,
    op: s.op === 'neq' ? 'neq' : 'eq',
    data,
    dependsOn: [s.left],
    at: s.offset,
  };
}

function mergeRun(run: Candidate[], out: (Statement | undefined)[]): void {
  if (run.length < 2) return;
  const sorted = [...run].sort((a, b) => a.match.offset - b.match.offset);
  let last = sorted[0] as Candidate;
  for (let i = 1; i < sorted.length; i++) {
    const next = sorted[i] as Candidate;
    const a = last.match;
    const b = next.match;
    if (!canMerge(a, b)) {
      last = next;
      continue;
    }
    // The later statement of the two in the rule keeps only its dependency in place.
    const [first, second] = last.index < next.index ? [last, next] : [next, last];
    const keep = a === last.match ? last : next;
    const drop = keep === first ? second : first;
    // Only the kept statement's own dependencies go before the joined load: the dropped one's
    // stay where nft inserted them, so `th sport 1 tcp dport 1` loads both ports first and then
    // checks `meta l4proto tcp`, as nft 1.0.6 emits it.
    const merged: PayloadMatch = {
      ...a,
      len: a.len + b.len,
      data: Buffer.concat([a.data, b.data]),
      dependsOn: keep.match.dependsOn,
    };
    out[keep.index] = merged;
    out[drop.index] = { t: 'dependency-marker', selectors: drop.match.dependsOn, at: drop.match.at };
    keep.match = merged;
    last = keep;
  }
}

/** Statements with nft's payload merges applied. */
export function mergePayloadMatches(statements: readonly Statement[], family: NftFamily): Statement[] {
  const out: (Statement | undefined)[] = [...statements];
  let run: Candidate[] = [];
  statements.forEach((s, index) => {
    if (s.t !== 'match' && s.t !== 'vmap') {
      if (run.length < 2) return;
      mergeRun(run, out);
      run = [];
      return;
    }
    const match = candidate(s, family);
    if (match) run.push({ index, match });
  });
  mergeRun(run, out);
  return out.filter((s): s is Statement => s !== undefined);
}
