import type { KubeObject } from './kube-object';
import { ProtobufEncodingError, writeMessage } from './protobuf-encoding';
import { ProtobufWriter } from './protobuf-writer';

/*
 * The protobuf wire forms kube-apiserver answers with (k8s.io/apimachinery's
 * runtime/serializer/protobuf and its watch framer):
 * - an object, list or Status: `k8s\0` then runtime.Unknown {typeMeta(1) {apiVersion(1),
 *   kind(2)}, raw(2) = the object's message, contentEncoding(3) = "", contentType(4) = ""} (Go
 *   writes the two empty strings: they are not pointers);
 * - a watch event: a 4-byte big-endian length, then meta.v1.WatchEvent {type(1), object(2) =
 *   RawExtension {raw(1) = the object's envelope as above}}.
 * The fake encodes only the kinds below; a real server encodes every built-in kind.
 */

/** The `k8s\0` prefix of every protobuf-encoded object. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The protobuf message of each kind the fake encodes, by `apiVersion/kind`. */
const MESSAGES: Readonly<Record<string, string>> = {
  'v1/Service': 'k8s.io.api.core.v1.Service',
  'v1/ServiceList': 'k8s.io.api.core.v1.ServiceList',
  'discovery.k8s.io/v1/EndpointSlice': 'k8s.io.api.discovery.v1.EndpointSlice',
  'discovery.k8s.io/v1/EndpointSliceList': 'k8s.io.api.discovery.v1.EndpointSliceList',
  'v1/Status': 'k8s.io.apimachinery.pkg.apis.meta.v1.Status',
};

/** The protobuf message name of `apiVersion`'s `kind`, or undefined when the fake encodes it only as JSON. */
export function protobufMessageOf(apiVersion: string, kind: string): string | undefined {
  return MESSAGES[`${apiVersion}/${kind}`];
}

const writer = new ProtobufWriter();

function messageName(apiVersion: string, kind: string): string {
  const name = protobufMessageOf(apiVersion, kind);
  if (name === undefined)
    throw new ProtobufEncodingError(
      'kind',
      `${apiVersion} ${kind}`,
      'the fake API server encodes only Services, EndpointSlices, their lists and Status as protobuf',
    );
  return name;
}

/** One object's message bytes (no envelope): what a list's items and the envelopes hold. */
export function encodeObjectMessage(obj: Record<string, unknown>, apiVersion: string, kind: string): Buffer {
  writer.reset();
  writeMessage(writer, messageName(apiVersion, kind), obj);
  return writer.finish();
}

/** Writes `k8s\0` + Unknown around an already encoded message. */
function writeEnvelope(w: ProtobufWriter, apiVersion: string, kind: string, message: Uint8Array): void {
  w.raw(PROTOBUF_MAGIC);
  w.byte(0x0a);
  const typeMeta = w.beginMessage();
  w.byte(0x0a);
  w.string(apiVersion);
  w.byte(0x12);
  w.string(kind);
  w.endMessage(typeMeta);
  w.byte(0x12);
  w.bytes(message);
  w.byte(0x1a); // contentEncoding ""
  w.byte(0);
  w.byte(0x22); // contentType ""
  w.byte(0);
}

/** An encoded message in its envelope, as a GET or LIST body. */
export function envelope(apiVersion: string, kind: string, message: Uint8Array): Buffer {
  writer.reset();
  writeEnvelope(writer, apiVersion, kind, message);
  return writer.finish();
}

/**
 * A stored-shape JSON object (a Service, EndpointSlice, their lists, or a Status) as the bytes a
 * v1.36 kube-apiserver answers a protobuf GET or LIST with: `k8s\0` + runtime.Unknown. Its
 * `apiVersion` and `kind` pick the message. For tests that need protobuf fixtures.
 */
export function encodeProtobufObject(obj: KubeObject | Record<string, unknown>): Buffer {
  const { apiVersion, kind } = typeOf(obj);
  return envelope(apiVersion, kind, encodeObjectMessage(obj as Record<string, unknown>, apiVersion, kind));
}

/** The object's apiVersion and kind, which pick its message; a ProtobufEncodingError unless both are named. */
function typeOf(obj: KubeObject | Record<string, unknown>): { apiVersion: string; kind: string } {
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string')
    throw new ProtobufEncodingError(
      'apiVersion/kind',
      `${String(apiVersion)}/${String(kind)}`,
      'the object must name both',
    );
  return { apiVersion, kind };
}

/**
 * One watch event as its frame: the 4-byte big-endian length, then WatchEvent {type, object =
 * RawExtension {raw = the object's envelope}}; `message` is the object's encoded message.
 */
export function watchEventFrame(type: string, apiVersion: string, kind: string, message: Uint8Array): Buffer {
  writer.reset();
  writer.raw(FRAME_LENGTH_PLACEHOLDER);
  writer.byte(0x0a);
  writer.string(type);
  writer.byte(0x12);
  const object = writer.beginMessage();
  writer.byte(0x0a);
  const raw = writer.beginMessage();
  writeEnvelope(writer, apiVersion, kind, message);
  writer.endMessage(raw);
  writer.endMessage(object);
  const frame = writer.finish();
  frame.writeUInt32BE(frame.length - 4, 0);
  return frame;
}

const FRAME_LENGTH_PLACEHOLDER = new Uint8Array(4);

/**
 * A stored-shape JSON object as one protobuf watch event frame (`type` ADDED, MODIFIED, DELETED,
 * BOOKMARK, or ERROR with a Status), as a v1.36 kube-apiserver streams it. For test fixtures.
 */
export function encodeProtobufWatchEvent(type: string, obj: KubeObject | Record<string, unknown>): Buffer {
  const { apiVersion, kind } = typeOf(obj);
  return watchEventFrame(
    type,
    apiVersion,
    kind,
    encodeObjectMessage(obj as Record<string, unknown>, apiVersion, kind),
  );
}

const LIST_META = 'k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta';

function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v > 0x7f; v = Math.floor(v / 128)) size++;
  return size;
}

/**
 * A list (`ServiceList`, `EndpointSliceList`) in its envelope from its ListMeta's JSON and its
 * items' encoded messages. Sized first and written into a buffer of exactly that size: a
 * 5,000-slice list is tens of MB, which neither grows nor stays behind in the shared writer.
 */
export function listEnvelope(
  apiVersion: string,
  kind: string,
  metadata: Record<string, unknown>,
  items: readonly Uint8Array[],
): Buffer {
  writer.reset();
  writeMessage(writer, LIST_META, metadata);
  const meta = writer.finish();
  let size = 1 + varintSize(meta.length) + meta.length;
  for (const item of items) size += 1 + varintSize(item.length) + item.length;
  const header = envelope(apiVersion, kind, new Uint8Array(0));
  // The envelope of an empty message ends `12 00 1a 00 22 00`: the list's length and bytes take
  // the place of the `00` after raw's key, the fifth byte from the end.
  const w = new ProtobufWriter(header.length - 1 + varintSize(size) + size);
  w.raw(header.subarray(0, header.length - 5));
  w.uvarint(size);
  w.byte(0x0a);
  w.bytes(meta);
  for (const item of items) {
    w.byte(0x12);
    w.bytes(item);
  }
  w.raw(header.subarray(header.length - 4));
  return w.detach();
}
