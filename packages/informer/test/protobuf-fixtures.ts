import { k8sProtobufType } from '@nodeagent/testing/apiserver';
import type protobuf from 'protobufjs';
import { type RestClientMetrics, setRestClientMetrics } from '../src/rest-client-metrics-entry';

/** Full protobuf names of the messages the tests encode. */
export const T = {
  service: 'k8s.io.api.core.v1.Service',
  serviceList: 'k8s.io.api.core.v1.ServiceList',
  slice: 'k8s.io.api.discovery.v1.EndpointSlice',
  sliceList: 'k8s.io.api.discovery.v1.EndpointSliceList',
  status: 'k8s.io.apimachinery.pkg.apis.meta.v1.Status',
  watchEvent: 'k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent',
  unknown: 'k8s.io.apimachinery.pkg.runtime.Unknown',
  objectMeta: 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta',
} as const;

const types = new Map<string, protobuf.Type>();
function type(name: string): protobuf.Type {
  let t = types.get(name);
  if (!t) {
    t = k8sProtobufType(name);
    types.set(name, t);
  }
  return t;
}

/** protobufjs's encoding of a plain object (a field is written when its key is present, zero or not). */
export function encode(name: string, message: Record<string, unknown>): Buffer {
  return Buffer.from(type(name).encode(message).finish());
}

/** `k8s\0` + runtime.Unknown around `raw`, with empty contentEncoding/contentType as Go writes them. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const unknown = encode(T.unknown, {
    typeMeta: { apiVersion, kind },
    raw,
    contentEncoding: '',
    contentType: '',
  });
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0]), unknown]);
}

/** One watch frame: 4-byte big-endian length, then WatchEvent {type, object: {raw: envelope}}. */
export function watchFrame(type: string, enveloped: Uint8Array): Buffer {
  const event = encode(T.watchEvent, { type, object: { raw: enveloped } });
  const length = Buffer.alloc(4);
  length.writeUInt32BE(event.length);
  return Buffer.concat([length, event]);
}

/** Appends raw tag/value bytes (an unknown field) to a message's encoding. */
export function withUnknownFields(message: Buffer): Buffer {
  return Buffer.concat([
    message,
    // field 99 varint 300; field 98 fixed64; field 97 bytes "xyz"; field 96 fixed32; field 95 group {field 1 varint 1}
    Buffer.from([0x98, 0x06, 0xac, 0x02]),
    Buffer.from([0x91, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]),
    Buffer.from([0x8a, 0x06, 3, 0x78, 0x79, 0x7a]),
    Buffer.from([0x85, 0x06, 1, 2, 3, 4]),
    Buffer.from([0xfb, 0x05, 0x08, 0x01, 0xfc, 0x05]),
  ]);
}

/** Seconds of an RFC 3339 second, as metav1.Time's protobuf carries it. */
export function seconds(rfc3339: string): number {
  return Date.parse(rfc3339) / 1000;
}

const protoTime = (t: unknown) => (typeof t === 'string' ? { seconds: seconds(t) } : {});

/**
 * The Go object's protobuf form of a JSON-shaped value (for protobufjs): RFC 3339 strings to
 * Time{seconds} (`null` to the empty message), fieldsV1 to FieldsV1{Raw}, a targetPort to
 * IntOrString, `null` slices left out; every other field as is.
 */
export function jsonToProto(key: string, value: unknown): unknown {
  if (value === null) return undefined;
  if (['creationTimestamp', 'deletionTimestamp', 'time', 'lastTransitionTime'].includes(key))
    return protoTime(value);
  if (key === 'fieldsV1') return { Raw: Buffer.from(JSON.stringify(value)) };
  if (key === 'targetPort' && typeof value !== 'object')
    return typeof value === 'number'
      ? { type: 0, intVal: value, strVal: '' }
      : { type: 1, intVal: 0, strVal: value };
  if (key === 'labels' || key === 'annotations' || key === 'selector' || key === 'deprecatedTopology')
    return value;
  if (Array.isArray(value)) return value.map((v) => jsonToProto('', v));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = jsonToProto(k, v);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return value;
}

/** Connects rest_client_* metrics that record only each response's size, in the returned list. */
export function recordResponseSizes(): number[] {
  const sizes: number[] = [];
  setRestClientMetrics({
    requestResult: () => {},
    requestLatency: () => {},
    requestSize: () => {},
    responseSize: (_verb, _host, bytes) => sizes.push(bytes),
    rateLimiterLatency: () => {},
  } satisfies RestClientMetrics);
  return sizes;
}

/**
 * Held objects (the store a relist hands its decoder) holding one object, `ns/<name>` at
 * `resourceVersion`; every question is noted in `asked` as `namespace/name@resourceVersion`.
 */
export function holdingOne(name: string, resourceVersion: string) {
  const held = { metadata: { name, namespace: 'ns', resourceVersion }, kept: true };
  const asked: string[] = [];
  const store = {
    at(namespace: string, n: string, rv: string) {
      asked.push(`${namespace}/${n}@${rv}`);
      return namespace === 'ns' && n === name && rv === resourceVersion ? held : undefined;
    },
  };
  return { held, asked, store };
}
