import { goJson } from '@nodeagent/primitives/go-text';
import { describe, expect, it } from 'vitest';
import { encodeProtobufObject, encodeProtobufWatchEvent } from '../src/apiserver/index';
import { ProtobufEncodingError } from '../src/apiserver/protobuf-encoding';
import { encodeObjectMessage } from '../src/apiserver/protobuf-envelope';
import { ProtobufWriter } from '../src/apiserver/protobuf-writer';
import { decodeEnvelope, goView, referenceEncode, splitFrames } from './fixtures/protobuf-views';

// The JSON → protobuf encoder against upstream's bytes: one small EndpointSlice written out by
// hand from generated.pb.go's marshaller, and a broad set of objects byte-equal to protobufjs's
// encoding of the same objects with Go's zero-value rules applied (a separate implementation,
// in the test fixtures).

const SLICE = 'k8s.io.api.discovery.v1.EndpointSlice';
const SERVICE = 'k8s.io.api.core.v1.Service';
const STATUS = 'k8s.io.apimachinery.pkg.apis.meta.v1.Status';

const small = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: 's',
    namespace: 'd',
    resourceVersion: '5',
    creationTimestamp: '1970-01-01T00:01:40Z',
    labels: { b: '2', a: '1' },
  },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
  ports: [{ port: 80 }],
};

// EndpointSlice.MarshalToSizedBuffer and what it calls, field by field.
const SMALL_HEX = [
  '6b387300', // k8s\0
  '0a24', // Unknown.typeMeta, 36 bytes
  '0a13',
  Buffer.from('discovery.k8s.io/v1').toString('hex'),
  '120d',
  Buffer.from('EndpointSlice').toString('hex'),
  '1243', // Unknown.raw, the EndpointSlice's 67 bytes
  '0a27', // metadata (ObjectMeta), 39 bytes
  '0a0173', // name "s"
  '1200', // generateName "" (a non-pointer string: always written)
  '1a0164', // namespace "d"
  '2200', // selfLink ""
  '2a00', // uid ""
  '320135', // resourceVersion "5"
  '3800', // generation 0
  '420408641000', // creationTimestamp {seconds 100, nanos 0}
  '5a060a0161120131', // labels, sorted: a=1
  '5a060a0162120132', // b=2
  '120e', // endpoints[0], 14 bytes
  '0a08',
  Buffer.from('10.0.0.1').toString('hex'),
  '12020801', // conditions {ready: true}; serving, terminating nil
  '1a021850', // ports[0] {port: 80}; name, protocol, appProtocol nil
  '2204',
  Buffer.from('IPv4').toString('hex'), // addressType
  '1a00', // Unknown.contentEncoding ""
  '2200', // Unknown.contentType ""
].join('');

const CREATED = '2026-01-01T00:00:00Z';

function service(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'svc-1',
      namespace: 'bench',
      uid: '3f1e0c3a-5b0e-4c55-9a8e-0d1c2b3a4f5e',
      resourceVersion: '123456',
      generation: 3,
      creationTimestamp: CREATED,
      labels: { app: 'svc-1', 'z.example/tier': 'ü-front' },
      annotations: { note: 'naïve ünïcode ✓' },
      finalizers: ['f/one'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }],
      managedFields: [
        {
          manager: 'kubectl-create',
          operation: 'Update',
          apiVersion: 'v1',
          time: CREATED,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'k:{"port":80,"protocol":"TCP"}': { '.': {} } } },
        },
      ],
    },
    spec: {
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 'dns', nodePort: 30053, appProtocol: 'dns' },
        { protocol: 'TCP', port: 443 },
      ],
      selector: { app: 'svc-1' },
      clusterIP: '10.96.0.16',
      clusterIPs: ['10.96.0.16'],
      type: 'ClusterIP',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: -1,
    },
    status: {
      loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] },
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: CREATED, reason: 'R', message: 'm' }],
    },
  };
}

function slice(endpoints: number): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'svc-1-abcde',
      namespace: 'bench',
      generateName: 'svc-1-',
      labels: { 'kubernetes.io/service-name': 'svc-1', 'endpointslice.kubernetes.io/managed-by': 'x' },
      creationTimestamp: CREATED,
      deletionTimestamp: CREATED,
      deletionGracePeriodSeconds: 0,
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: endpoints }, (_, i) => ({
      addresses: [`10.128.${i >> 8}.${i & 255}`],
      conditions: { ready: i % 3 !== 0, serving: true, terminating: i % 3 === 0 },
      nodeName: 'node-1',
      zone: 'z1',
      hostname: i % 2 ? `h${i}` : undefined,
      targetRef: { kind: 'Pod', namespace: 'bench', name: `pod-${i}`, uid: `uid-${i}` },
      hints: { forZones: [{ name: 'z1' }], forNodes: [{ name: 'node-1' }] },
      deprecatedTopology: { b: 'x', a: 'y' },
    })),
    ports: [{ name: 'http', protocol: 'TCP', port: 80, appProtocol: 'http' }, {}],
  };
}

describe('protobuf encoding of stored objects (issue #54)', () => {
  it('writes a small EndpointSlice byte for byte as the Go marshaller does', () => {
    expect(encodeProtobufObject(small).toString('hex')).toBe(SMALL_HEX);
  });

  it('equals protobufjs with Go rules for a full Service, an EndpointSlice of 300 endpoints and a Status', () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'services "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'services', causes: [{ reason: 'r', message: 'm', field: 'f' }] },
      code: 404,
    };
    for (const [typeName, obj] of [
      [SERVICE, service()],
      [SERVICE, { metadata: {} }],
      [SLICE, slice(300)],
      [SLICE, {}],
      [STATUS, status],
    ] as const) {
      const ours = encodeObjectMessage(obj, ...typeMetaOf(typeName));
      expect(Buffer.from(ours).toString('hex')).toBe(
        Buffer.from(referenceEncode(typeName, obj)).toString('hex'),
      );
    }
  });

  it('decodes back (protobufjs) to the same object after Go rules', () => {
    const svc = service();
    const back = decodeEnvelope(encodeProtobufObject(svc), SERVICE);
    expect(back.apiVersion).toBe('v1');
    expect(back.kind).toBe('Service');
    expect(back.object).toEqual(goView(SERVICE, svc));
    // targetPort 8080 stays a number, 'dns' a string; -1 a negative int32.
    const spec = back.object.spec as { ports: { targetPort: unknown }[]; healthCheckNodePort: number };
    expect(spec.ports.map((p) => p.targetPort)).toEqual([8080, 'dns', undefined]);
    expect(spec.healthCheckNodePort).toBe(-1);
  });

  it('frames a watch event: 4-byte big-endian length, then WatchEvent{type, RawExtension{envelope}}', () => {
    const frame = encodeProtobufWatchEvent('MODIFIED', small);
    const [event] = splitFrames(frame);
    expect(event?.length).toBe(frame.length - 4);
    expect(event?.type).toBe('MODIFIED');
    expect(Buffer.from(event?.raw ?? []).toString('hex')).toBe(SMALL_HEX);
  });

  it('names the field and value of a wrongly typed object', () => {
    const bad = { ...small, endpoints: [{ addresses: [42] }] };
    expect(() => encodeProtobufObject(bad)).toThrow(ProtobufEncodingError);
    expect(() => encodeProtobufObject(bad)).toThrow(/Endpoint\.addresses.*42/);
    expect(() => encodeProtobufObject({ ...small, metadata: { creationTimestamp: 'yesterday' } })).toThrow(
      /ObjectMeta\.creationTimestamp.*yesterday/,
    );
    expect(() => encodeProtobufObject({ apiVersion: 'v1', kind: 'Pod', metadata: {} })).toThrow(/v1 Pod/);
  });

  it('writes FieldsV1 as Go escapes JSON, and long messages with multi-byte lengths', () => {
    expect(goJson({ 'f:a<b>&': {} })).toBe('{"f:a\\u003cb\\u003e\\u0026":{}}');
    const w = new ProtobufWriter(4);
    w.byte(0x0a);
    const at = w.beginMessage();
    w.string('x'.repeat(20_000));
    w.endMessage(at);
    const out = w.finish();
    // 0a, length 20003 (3 varint bytes), then the string's key-less body: length 20000 + text.
    expect(out.subarray(0, 7).toString('hex')).toBe('0aa39c01a09c01');
    expect(out.length).toBe(1 + 3 + 3 + 20_000);
    const neg = new ProtobufWriter();
    neg.varint(-1);
    expect(neg.finish().toString('hex')).toBe('ffffffffffffffffff01');
  });
});

function typeMetaOf(typeName: string): [string, string] {
  if (typeName === SERVICE) return ['v1', 'Service'];
  if (typeName === SLICE) return ['discovery.k8s.io/v1', 'EndpointSlice'];
  return ['v1', 'Status'];
}
