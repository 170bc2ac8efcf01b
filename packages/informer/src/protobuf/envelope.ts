import { readEndpointSlice } from './endpoint-slice';
import { ProtobufDecodeError } from './errors';
import type { HeldObjects } from './held-objects';
import type { DecodeFlags } from './omit';
import { ProtoReader } from './reader';
import { readService } from './service';
import { readStatus } from './status';

/** The 4 bytes before every Kubernetes protobuf object: `k8s\0`. */
export const PROTOBUF_MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** What a `runtime.Unknown` envelope holds: the object's type and where its message's bytes are. */
export interface Envelope {
  apiVersion: string;
  kind: string;
  /** The object's message: `raw` (field 2) from `start` to `end` of the same buffer. */
  start: number;
  end: number;
}

/**
 * Reads `k8s\0` + runtime.Unknown {typeMeta(1){apiVersion(1), kind(2)}, raw(2),
 * contentEncoding(3), contentType(4)} from `start` to `end` of `buf`. A non-empty
 * contentEncoding (none is defined) is refused rather than misread.
 */
export function readEnvelope(buf: Uint8Array, start: number, end: number): Envelope {
  for (let i = 0; i < 4; i++) {
    if (start + i >= end || buf[start + i] !== PROTOBUF_MAGIC[i])
      throw new ProtobufDecodeError('Unknown envelope', start + i, 'does not start with k8s\\0');
  }
  const r = new ProtoReader(buf, start + 4, end);
  const env: Envelope = { apiVersion: '', kind: '', start: end, end };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) readTypeMeta(r, env);
    else if (tag === 18) {
      env.end = r.end();
      env.start = r.pos;
      r.pos = env.end;
    } else if (tag === 26) {
      const encoding = r.string();
      if (encoding !== '')
        throw new ProtobufDecodeError(
          'Unknown envelope',
          r.pos,
          `contentEncoding ${encoding} is not supported`,
        );
    } else r.skip(tag & 7);
  }
  r.expectEnd(end, 'Unknown envelope');
  return env;
}

function readTypeMeta(r: ProtoReader, env: Envelope): void {
  const end = r.end();
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) env.apiVersion = r.string();
    else if (tag === 18) env.kind = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'TypeMeta');
}

/**
 * The object in an envelope as the API server's JSON would give it, `kind` and `apiVersion`
 * included (a watch event's object, an error's Status), or the `held` object at its name and
 * resourceVersion. Services, EndpointSlices and Status only: any other kind is a
 * ProtobufDecodeError naming it.
 */
export function decodeEnvelopedObject(
  buf: Uint8Array,
  start: number,
  end: number,
  flags: DecodeFlags,
  held?: HeldObjects,
): Record<string, unknown> {
  const env = readEnvelope(buf, start, end);
  const r = new ProtoReader(buf, env.start, env.end);
  switch (env.kind) {
    case 'EndpointSlice':
      return readEndpointSlice(r, env.end, flags, env.apiVersion, held);
    case 'Service':
      return readService(r, env.end, flags, env.apiVersion, held);
    case 'Status':
      return { kind: 'Status', apiVersion: env.apiVersion, ...readStatus(r, env.end) };
    default:
      throw new ProtobufDecodeError(
        'Unknown envelope',
        start,
        `kind ${JSON.stringify(env.kind)} is not decoded`,
      );
  }
}
