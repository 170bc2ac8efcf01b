import { readEndpointSlice } from './endpoint-slice';
import { readEnvelope } from './envelope';
import { ProtobufDecodeError } from './errors';
import { readListMeta } from './list-meta';
import type { DecodeFlags } from './omit';
import { ProtoReader } from './reader';
import { readService } from './service';

/** A decoded list: its ListMeta's JSON and the items, each already through `each`. */
export interface DecodedList<T> {
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** The item reader of each list kind. */
const ITEM_READERS = {
  ServiceList: readService,
  EndpointSliceList: readEndpointSlice,
} as const;

/**
 * A `ServiceList` or `EndpointSliceList` body (`k8s\0` + Unknown around {metadata(1), items(2)}):
 * each item decoded as the JSON list's items are (no kind/apiVersion of their own) and handed
 * to `each` at once, so only the transformed items are kept.
 */
export function decodeList<T>(buf: Uint8Array, flags: DecodeFlags, each: (item: T) => T): DecodedList<T> {
  const env = readEnvelope(buf, 0, buf.length);
  const readItem = ITEM_READERS[env.kind as keyof typeof ITEM_READERS];
  if (!readItem)
    throw new ProtobufDecodeError('list', 0, `kind ${JSON.stringify(env.kind)} is not a decoded list`);
  const r = new ProtoReader(buf, env.start, env.end);
  const list: DecodedList<T> = { metadata: {}, items: [] };
  while (r.pos < env.end) {
    const tag = r.uint();
    if (tag === 18) {
      const end = r.end();
      list.items.push(each(readItem(r, end, flags, undefined) as T));
    } else if (tag === 10) list.metadata = readListMeta(r);
    else r.skip(tag & 7);
  }
  r.expectEnd(env.end, env.kind);
  return list;
}
