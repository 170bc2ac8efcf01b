import type { ProtoReader } from './reader';
import { readTime } from './time';

/**
 * A meta/v1 Condition as JSON: type, status, lastTransitionTime (`null` when zero: no
 * omitempty), reason and message always; observedGeneration `omitempty`.
 */
export function readCondition(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const c: Record<string, unknown> = {
    type: '',
    status: '',
    lastTransitionTime: null,
    reason: '',
    message: '',
  };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) c.type = r.string();
    else if (tag === 18) c.status = r.string();
    else if (tag === 24) {
      const generation = r.int64();
      if (generation !== 0) c.observedGeneration = generation;
    } else if (tag === 34) c.lastTransitionTime = readTime(r);
    else if (tag === 42) c.reason = r.string();
    else if (tag === 50) c.message = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'Condition');
  return c;
}
