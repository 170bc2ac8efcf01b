import { decodeEnvelopedObject } from './envelope';
import { ProtobufDecodeError } from './errors';
import type { HeldObjects } from './held-objects';
import { DECODE_ALL, type DecodeFlags } from './omit';
import { ProtoReader } from './reader';

/** A decoded watch event, as the JSON watch's line would parse. */
export interface DecodedWatchEvent {
  type: string;
  object: Record<string, unknown>;
}

/**
 * One frame of a protobuf watch: meta/v1 WatchEvent {type(1), object(2) = RawExtension{raw(1)}},
 * `raw` being `k8s\0` + Unknown around the object (a Status for ERROR). An ADDED event's object
 * is the `held` one when `held` has it at the event's resourceVersion (a watch-list stream's
 * initial events are ADDED).
 */
export function decodeWatchEvent(
  buf: Uint8Array,
  start: number,
  end: number,
  flags: DecodeFlags,
  held?: HeldObjects,
): DecodedWatchEvent {
  const r = new ProtoReader(buf, start, end);
  let type = '';
  let object: Record<string, unknown> | undefined;
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) type = r.string();
    // A BOOKMARK's object is decoded whole: its annotations carry `k8s.io/initial-events-end`,
    // which ends a watch-list's initial state (Go writes the type first, so it is known here).
    else if (tag === 18)
      object = readRawExtension(
        r,
        type === 'BOOKMARK' ? DECODE_ALL : flags,
        type === 'ADDED' ? held : undefined,
      );
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'WatchEvent');
  if (!object) throw new ProtobufDecodeError('WatchEvent', start, `${type || 'an'} event without an object`);
  return { type, object };
}

function readRawExtension(
  r: ProtoReader,
  flags: DecodeFlags,
  held: HeldObjects | undefined,
): Record<string, unknown> | undefined {
  const end = r.end();
  let object: Record<string, unknown> | undefined;
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) {
      const rawEnd = r.end();
      object = decodeEnvelopedObject(r.buf, r.pos, rawEnd, flags, held);
      r.pos = rawEnd;
    } else r.skip(tag & 7);
  }
  r.expectEnd(end, 'RawExtension');
  return object;
}
