import { ApiError } from './api-error';

/**
 * Decoder for the Kubernetes protobuf envelope (`k8s\0` + runtime.Unknown) for the kinds
 * kubectl's imperative generators send as protobuf (`kubectl create configmap|secret|
 * namespace|serviceaccount|service`). Only the fields those generators fill are mapped;
 * everything else is skipped. Field numbers follow k8s.io/api's generated.proto.
 */

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type FieldType = 'string' | 'int' | 'bool' | 'bytes64' | 'message' | 'map' | 'mapBytes' | 'intOrString';

interface FieldSpec {
  name: string;
  type: FieldType;
  repeated?: boolean;
  schema?: Schema;
}

type Schema = Record<number, FieldSpec>;

const OBJECT_META: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  11: { name: 'labels', type: 'map' },
  12: { name: 'annotations', type: 'map' },
  14: { name: 'finalizers', type: 'string', repeated: true },
};

const SERVICE_PORT: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'protocol', type: 'string' },
  3: { name: 'port', type: 'int' },
  4: { name: 'targetPort', type: 'intOrString' },
  5: { name: 'nodePort', type: 'int' },
  6: { name: 'appProtocol', type: 'string' },
};

/** certificates.k8s.io/v1 CSR: what `kubectl certificate approve|deny` PUTs to /approval. */
const CERTIFICATE_SIGNING_REQUEST: Schema = {
  1: {
    name: 'metadata',
    type: 'message',
    schema: {
      ...OBJECT_META,
      5: { name: 'uid', type: 'string' },
      6: { name: 'resourceVersion', type: 'string' },
    },
  },
  2: {
    name: 'spec',
    type: 'message',
    schema: {
      1: { name: 'request', type: 'bytes64' },
      2: { name: 'username', type: 'string' },
      3: { name: 'uid', type: 'string' },
      4: { name: 'groups', type: 'string', repeated: true },
      5: { name: 'usages', type: 'string', repeated: true },
      7: { name: 'signerName', type: 'string' },
      8: { name: 'expirationSeconds', type: 'int' },
    },
  },
  3: {
    name: 'status',
    type: 'message',
    schema: {
      1: {
        name: 'conditions',
        type: 'message',
        repeated: true,
        schema: {
          1: { name: 'type', type: 'string' },
          2: { name: 'reason', type: 'string' },
          3: { name: 'message', type: 'string' },
          6: { name: 'status', type: 'string' },
        },
      },
      2: { name: 'certificate', type: 'bytes64' },
    },
  },
};

/** The apiVersion each protobuf kind must come with (v1 unless listed). */
const KIND_API_VERSIONS: Record<string, string> = { CertificateSigningRequest: 'certificates.k8s.io/v1' };

const KINDS: Record<string, Schema> = {
  CertificateSigningRequest: CERTIFICATE_SIGNING_REQUEST,
  ConfigMap: {
    1: { name: 'metadata', type: 'message', schema: OBJECT_META },
    2: { name: 'data', type: 'map' },
    3: { name: 'binaryData', type: 'mapBytes' },
    4: { name: 'immutable', type: 'bool' },
  },
  Secret: {
    1: { name: 'metadata', type: 'message', schema: OBJECT_META },
    2: { name: 'data', type: 'mapBytes' },
    3: { name: 'type', type: 'string' },
    5: { name: 'immutable', type: 'bool' },
  },
  Namespace: { 1: { name: 'metadata', type: 'message', schema: OBJECT_META } },
  ServiceAccount: { 1: { name: 'metadata', type: 'message', schema: OBJECT_META } },
  Service: {
    1: { name: 'metadata', type: 'message', schema: OBJECT_META },
    2: {
      name: 'spec',
      type: 'message',
      schema: {
        1: { name: 'ports', type: 'message', repeated: true, schema: SERVICE_PORT },
        2: { name: 'selector', type: 'map' },
        3: { name: 'clusterIP', type: 'string' },
        4: { name: 'type', type: 'string' },
        5: { name: 'externalIPs', type: 'string', repeated: true },
        7: { name: 'sessionAffinity', type: 'string' },
        10: { name: 'externalName', type: 'string' },
        11: { name: 'externalTrafficPolicy', type: 'string' },
      },
    },
  },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw protobufError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
  }

  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw protobufError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw protobufError(`unsupported wire type ${wireType}`);
  }

  /** Iterate `(field, wireType)` pairs; the callback must consume the value. */
  each(fn: (field: number, wireType: number) => void): void {
    while (!this.done) {
      const key = this.varint();
      fn(Math.floor(key / 8), key % 8);
    }
  }
}

function protobufError(message: string): ApiError {
  return new ApiError(
    400,
    'BadRequest',
    `the body of the request was in an unknown format: protobuf: ${message}`,
  );
}

function mapEntry(buf: Buffer, bytesValue: boolean): [string, string] {
  let key = '';
  let value = '';
  const r = new Reader(buf);
  r.each((f, w) => {
    if (f === 1 && w === 2) key = r.bytes().toString('utf8');
    else if (f === 2 && w === 2) {
      const v = r.bytes();
      value = bytesValue ? v.toString('base64') : v.toString('utf8');
    } else r.skip(w);
  });
  return [key, value];
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  r.each((field, wire) => {
    const spec = schema[field];
    if (!spec) {
      r.skip(wire);
      return;
    }
    let value: unknown;
    switch (spec.type) {
      case 'string':
        value = r.bytes().toString('utf8');
        if (value === '' && !spec.repeated) return;
        break;
      case 'int':
        value = r.varint();
        if (value === 0) return;
        break;
      case 'bool':
        value = r.varint() !== 0;
        if (value === false) return;
        break;
      case 'bytes64':
        value = r.bytes().toString('base64');
        break;
      case 'message':
        value = decodeMessage(r.bytes(), spec.schema ?? {});
        break;
      case 'map':
      case 'mapBytes': {
        const [k, v] = mapEntry(r.bytes(), spec.type === 'mapBytes');
        const m = (out[spec.name] as Record<string, string> | undefined) ?? {};
        m[k] = v;
        out[spec.name] = m;
        return;
      }
      case 'intOrString': {
        const ios = decodeMessage(r.bytes(), {
          1: { name: 'type', type: 'int' },
          2: { name: 'intVal', type: 'int' },
          3: { name: 'strVal', type: 'string' },
        });
        value = ios.type === 1 ? ios.strVal : (ios.intVal ?? 0);
        break;
      }
    }
    if (spec.repeated) out[spec.name] = [...((out[spec.name] as unknown[] | undefined) ?? []), value];
    else out[spec.name] = value;
  });
  return out;
}

/** Decode a protobuf request body into the JSON object the rest of the server handles. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw protobufError('missing k8s magic prefix');
  const envelope = new Reader(body.subarray(4));
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  envelope.each((f, w) => {
    if (f === 1 && w === 2) {
      const tm = new Reader(envelope.bytes());
      tm.each((tf, tw) => {
        if (tf === 1 && tw === 2) apiVersion = tm.bytes().toString('utf8');
        else if (tf === 2 && tw === 2) kind = tm.bytes().toString('utf8');
        else tm.skip(tw);
      });
    } else if (f === 2 && w === 2) raw = envelope.bytes();
    else envelope.skip(w);
  });
  const schema = KINDS[kind];
  if (!schema || apiVersion !== (KIND_API_VERSIONS[kind] ?? 'v1') || !raw) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `protobuf bodies are only supported for v1 ${Object.keys(KINDS)
        .filter((k) => !KIND_API_VERSIONS[k])
        .join(
          ', ',
        )} and certificates.k8s.io/v1 CertificateSigningRequest; send ${kind || 'this object'} as application/json`,
    );
  }
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}
