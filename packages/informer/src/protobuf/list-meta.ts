import { setString } from './fields';
import type { ProtoReader } from './reader';

/** A meta/v1 ListMeta as JSON: strings `omitempty`, `remainingItemCount` and `shardInfo` when written. */
export function readListMeta(r: ProtoReader): Record<string, unknown> {
  return readListMetaTo(r, r.end());
}

/** A ListMeta whose fields run from `r.pos` to `end` (its length prefix already read). */
export function readListMetaTo(r: ProtoReader, end: number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) setString(m, 'selfLink', r.string());
    else if (tag === 18) setString(m, 'resourceVersion', r.string());
    else if (tag === 26) setString(m, 'continue', r.string());
    else if (tag === 32) m.remainingItemCount = r.int64();
    else if (tag === 42) m.shardInfo = readShardInfo(r);
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ListMeta');
  return m;
}

/** ShardInfo's `selector` has no omitempty: always there. */
function readShardInfo(r: ProtoReader): { selector: string } {
  const end = r.end();
  let selector = '';
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) selector = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ShardInfo');
  return { selector };
}
