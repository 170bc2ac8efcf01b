// Hand-written protobuf codec for grpc.health.v1, which has one field per message; it saves a
// protobuf runtime and a .proto file at run time.
//   message HealthCheckRequest  { string service = 1; }
//   message HealthCheckResponse { ServingStatus status = 1; }

/** The gRPC health service's Check method path. */
export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by wire number. */
export const SERVING_STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
/** A grpc.health.v1 serving status name. */
export type ServingStatus = (typeof SERVING_STATUS_NAMES)[number];

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function readVarint(buf: Buffer, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new RangeError('truncated varint');
}

/** Skips a field we do not know, so newer servers with more fields still decode. */
function skipField(buf: Buffer, wireType: number, pos: number): number {
  switch (wireType) {
    case 0:
      return readVarint(buf, pos)[1];
    case 1:
      return pos + 8;
    case 2: {
      const [len, next] = readVarint(buf, pos);
      return next + len;
    }
    case 5:
      return pos + 4;
    default:
      throw new RangeError(`unsupported wire type ${wireType}`);
  }
}

/** Decodes every string field 1 / varint field 1 message (both health messages fit this). */
function decodeField1(buf: Buffer): { varint?: number; bytes?: Buffer } {
  const out: { varint?: number; bytes?: Buffer } = {};
  let pos = 0;
  while (pos < buf.length) {
    const [tag, next] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    pos = next;
    if (field === 1 && wireType === 0) {
      [out.varint, pos] = readVarint(buf, pos);
    } else if (field === 1 && wireType === 2) {
      const [len, start] = readVarint(buf, pos);
      out.bytes = buf.subarray(start, start + len);
      pos = start + len;
    } else {
      pos = skipField(buf, wireType, pos);
    }
  }
  return out;
}

/** Protobuf bytes of a HealthCheckRequest. */
export function encodeHealthCheckRequest(req: { service: string }): Buffer {
  if (req.service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(req.service, 'utf8');
  return Buffer.from([0x0a, ...encodeVarint(bytes.length), ...bytes]);
}

/** A HealthCheckRequest from its protobuf bytes. */
export function decodeHealthCheckRequest(buf: Buffer): { service: string } {
  return { service: decodeField1(buf).bytes?.toString('utf8') ?? '' };
}

/** Protobuf bytes of a HealthCheckResponse. */
export function encodeHealthCheckResponse(res: { status: ServingStatus }): Buffer {
  const n = SERVING_STATUS_NAMES.indexOf(res.status);
  return n === 0 ? Buffer.alloc(0) : Buffer.from([0x08, ...encodeVarint(n)]);
}

/** A HealthCheckResponse from its protobuf bytes. */
export function decodeHealthCheckResponse(buf: Buffer): { status: ServingStatus } {
  const n = decodeField1(buf).varint ?? 0;
  return { status: SERVING_STATUS_NAMES[n] ?? 'UNKNOWN' };
}
