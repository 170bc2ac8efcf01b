import { describe, expect, it } from 'vitest';
import { decodeEnvelopedObject } from '../src/protobuf/envelope';
import { ProtobufDecodeError } from '../src/protobuf/errors';
import { decodeList } from '../src/protobuf/list';
import { DECODE_ALL, decodeFlags } from '../src/protobuf/omit';
import { decodeWatchEvent } from '../src/protobuf/watch-event';
import { encode, envelope, holdingOne, seconds, T, watchFrame, withUnknownFields } from './protobuf-fixtures';

function decodeObject(apiVersion: string, kind: string, raw: Buffer, omit: string[] = []) {
  const bytes = envelope(apiVersion, kind, raw);
  return decodeEnvelopedObject(bytes, 0, bytes.length, omit.length ? decodeFlags(omit) : DECODE_ALL);
}

const fullMeta = {
  name: 'web',
  generateName: 'web-',
  namespace: 'default',
  selfLink: '/x',
  uid: 'u-1',
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: { seconds: seconds('2026-01-02T03:04:05Z'), nanos: 0 },
  deletionTimestamp: { seconds: seconds('2026-02-03T04:05:06Z'), nanos: 999 },
  deletionGracePeriodSeconds: 0,
  labels: { b: '2', a: 'ünï' },
  annotations: { note: '' },
  ownerReferences: [{ kind: 'Service', name: 'web', uid: 'su', apiVersion: 'v1', controller: true }],
  finalizers: ['f1', 'f2'],
  managedFields: [
    {
      manager: 'kcm',
      operation: 'Update',
      apiVersion: 'v1',
      time: { seconds: seconds('2026-01-02T03:04:05Z') },
      fieldsType: 'FieldsV1',
      fieldsV1: { Raw: Buffer.from('{"f:spec":{"f:ports":{}}}') },
      subresource: '',
    },
  ],
};
const fullMetaJson = {
  name: 'web',
  generateName: 'web-',
  namespace: 'default',
  selfLink: '/x',
  uid: 'u-1',
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: '2026-01-02T03:04:05Z',
  deletionTimestamp: '2026-02-03T04:05:06Z',
  deletionGracePeriodSeconds: 0,
  labels: { b: '2', a: 'ünï' },
  annotations: { note: '' },
  ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'su', controller: true }],
  finalizers: ['f1', 'f2'],
  managedFields: [
    {
      manager: 'kcm',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-01-02T03:04:05Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:ports': {} } },
    },
  ],
};

/** Go's zero ObjectMeta as written: every non-pointer string and int64, creationTimestamp as an empty message. */
const zeroMeta = {
  name: '',
  generateName: '',
  namespace: '',
  selfLink: '',
  uid: '',
  resourceVersion: '',
  generation: 0,
  creationTimestamp: {},
};

describe('EndpointSlice', () => {
  it('decodes every field to the JSON the server would send', () => {
    const raw = encode(T.slice, {
      metadata: fullMeta,
      endpoints: [
        {
          addresses: ['10.0.0.1', '10.0.0.2'],
          conditions: { ready: true, serving: false },
          hostname: '',
          targetRef: {
            kind: 'Pod',
            namespace: 'default',
            name: 'p',
            uid: 'pu',
            apiVersion: '',
            fieldPath: '',
          },
          deprecatedTopology: { zone: 'z1' },
          nodeName: 'n1',
          zone: 'z1',
          hints: { forZones: [{ name: 'z1' }], forNodes: [{ name: 'n1' }] },
        },
        { conditions: {} },
      ],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, appProtocol: 'h2c' }, { port: -1 }],
      addressType: 'IPv4',
    });
    expect(decodeObject('discovery.k8s.io/v1', 'EndpointSlice', raw)).toStrictEqual({
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: fullMetaJson,
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.0.0.1', '10.0.0.2'],
          conditions: { ready: true, serving: false },
          hostname: '',
          targetRef: { kind: 'Pod', namespace: 'default', name: 'p', uid: 'pu' },
          deprecatedTopology: { zone: 'z1' },
          nodeName: 'n1',
          zone: 'z1',
          hints: { forZones: [{ name: 'z1' }], forNodes: [{ name: 'n1' }] },
        },
        { addresses: null, conditions: {} },
      ],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, appProtocol: 'h2c' }, { port: -1 }],
    });
  });

  it('a zero slice written as Go writes it: nil slices null, metadata {}, creationTimestamp left out', () => {
    const raw = encode(T.slice, { metadata: zeroMeta, addressType: '' });
    expect(decodeObject('discovery.k8s.io/v1', 'EndpointSlice', raw)).toStrictEqual({
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: {},
      addressType: '',
      endpoints: null,
      ports: null,
    });
  });

  it('skips unknown fields of every wire type at every level', () => {
    const endpoint = withUnknownFields(
      encode('k8s.io.api.discovery.v1.Endpoint', { addresses: ['1.2.3.4'], conditions: { ready: true } }),
    );
    const meta = withUnknownFields(encode(T.objectMeta, { name: 's' }));
    const raw = withUnknownFields(
      Buffer.concat([
        Buffer.from([0x0a, meta.length]),
        meta,
        Buffer.from([0x12, endpoint.length]),
        endpoint,
        encode(T.slice, { addressType: 'IPv6' }),
      ]),
    );
    expect(decodeObject('discovery.k8s.io/v1', 'EndpointSlice', raw)).toStrictEqual({
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: { name: 's' },
      addressType: 'IPv6',
      endpoints: [{ addresses: ['1.2.3.4'], conditions: { ready: true } }],
      ports: null,
    });
  });

  it('omits fields by path exactly as decoding and deleting them would', () => {
    const raw = encode(T.slice, {
      metadata: fullMeta,
      endpoints: [{ addresses: ['a'], targetRef: { name: 'p' }, hints: { forZones: [{ name: 'z' }] } }, {}],
      addressType: 'IPv4',
    });
    const whole = decodeObject('discovery.k8s.io/v1', 'EndpointSlice', raw) as {
      metadata: Record<string, unknown>;
      endpoints: Record<string, unknown>[];
    };
    const omit = ['endpoints.targetRef', 'endpoints.hints', 'metadata.managedFields', 'metadata.annotations'];
    const omitted = decodeObject('discovery.k8s.io/v1', 'EndpointSlice', raw, omit);
    delete whole.metadata.managedFields;
    delete whole.metadata.annotations;
    for (const e of whole.endpoints) {
      delete e.targetRef;
      delete e.hints;
    }
    expect(omitted).toStrictEqual(whole);
  });

  it('a map key named __proto__ is an own property, as JSON.parse makes it', () => {
    const labels = JSON.parse('{"__proto__":"x","a":"b"}');
    const raw = encode(T.slice, { metadata: { labels }, addressType: 'IPv4' });
    const got = decodeObject('discovery.k8s.io/v1', 'EndpointSlice', raw) as { metadata: { labels: object } };
    expect(got.metadata.labels).toStrictEqual(JSON.parse('{"__proto__":"x","a":"b"}'));
    expect(Object.getPrototypeOf(got.metadata.labels)).toBe(Object.prototype);
  });

  it('refuses an unknown omission path', () => {
    expect(() => decodeFlags(['endpoints.nope'])).toThrow(/protobuf.omit.*endpoints.nope/);
  });
});

describe('Service', () => {
  it('decodes every ServiceSpec field, ports with IntOrString, status with ingress ports and conditions', () => {
    const raw = encode(T.service, {
      metadata: { name: 'svc', namespace: 'ns', creationTimestamp: { seconds: 0 } },
      spec: {
        ports: [
          {
            name: 'http',
            protocol: 'TCP',
            port: 80,
            targetPort: { type: 1, intVal: 0, strVal: 'web' },
            nodePort: 0,
          },
          {
            name: '',
            protocol: 'UDP',
            port: 53,
            targetPort: { type: 0, intVal: 5353, strVal: '' },
            nodePort: 30053,
            appProtocol: '',
          },
          { port: 1 },
        ],
        selector: { app: 'web' },
        clusterIP: '10.96.0.10',
        type: 'LoadBalancer',
        externalIPs: ['1.1.1.1'],
        sessionAffinity: 'ClientIP',
        loadBalancerIP: '',
        loadBalancerSourceRanges: ['10.0.0.0/8'],
        externalName: '',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31000,
        publishNotReadyAddresses: false,
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
        ipFamilyPolicy: 'SingleStack',
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        allocateLoadBalancerNodePorts: false,
        loadBalancerClass: '',
        internalTrafficPolicy: 'Cluster',
        trafficDistribution: 'PreferClose',
      },
      status: {
        loadBalancer: {
          ingress: [
            {
              ip: '2.2.2.2',
              hostname: '',
              ipMode: 'VIP',
              ports: [{ port: 80, protocol: 'TCP', error: 'x' }, {}],
            },
          ],
        },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            observedGeneration: 0,
            lastTransitionTime: {},
            reason: '',
            message: 'ok',
          },
          { type: 'B', status: 'False', observedGeneration: 7, lastTransitionTime: { seconds: 86400 } },
        ],
      },
    });
    expect(decodeObject('v1', 'Service', raw)).toStrictEqual({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'svc', namespace: 'ns', creationTimestamp: '1970-01-01T00:00:00Z' },
      spec: {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 'web' },
          { protocol: 'UDP', port: 53, targetPort: 5353, nodePort: 30053, appProtocol: '' },
          { port: 1, targetPort: 0 },
        ],
        selector: { app: 'web' },
        clusterIP: '10.96.0.10',
        type: 'LoadBalancer',
        externalIPs: ['1.1.1.1'],
        sessionAffinity: 'ClientIP',
        loadBalancerSourceRanges: ['10.0.0.0/8'],
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31000,
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
        ipFamilyPolicy: 'SingleStack',
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        allocateLoadBalancerNodePorts: false,
        loadBalancerClass: '',
        internalTrafficPolicy: 'Cluster',
        trafficDistribution: 'PreferClose',
      },
      status: {
        loadBalancer: {
          ingress: [
            {
              ip: '2.2.2.2',
              ipMode: 'VIP',
              ports: [
                { port: 80, protocol: 'TCP', error: 'x' },
                { port: 0, protocol: '' },
              ],
            },
          ],
        },
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: null, reason: '', message: 'ok' },
          {
            type: 'B',
            status: 'False',
            observedGeneration: 7,
            lastTransitionTime: '1970-01-02T00:00:00Z',
            reason: '',
            message: '',
          },
        ],
      },
    });
  });

  it('an empty Service is metadata, spec and status.loadBalancer as empty objects', () => {
    const raw = encode(T.service, { metadata: {}, spec: {}, status: { loadBalancer: {} } });
    expect(decodeObject('v1', 'Service', raw)).toStrictEqual({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: {},
      spec: {},
      status: { loadBalancer: {} },
    });
    expect(decodeObject('v1', 'Service', Buffer.alloc(0), ['status'])).toStrictEqual({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: {},
      spec: {},
    });
  });
});

describe('Status, envelope, lists and watch events', () => {
  const status = {
    metadata: {},
    status: 'Failure',
    message: 'too old resource version: 1 (2)',
    reason: 'Expired',
    details: {
      name: '',
      group: '',
      kind: '',
      causes: [{ reason: 'R', message: 'm', field: '' }],
      retryAfterSeconds: 3,
      uid: '',
    },
    code: 410,
  };
  const statusJson = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'too old resource version: 1 (2)',
    reason: 'Expired',
    details: { causes: [{ reason: 'R', message: 'm' }], retryAfterSeconds: 3 },
    code: 410,
  };

  it('decodes a Status', () => {
    expect(decodeObject('v1', 'Status', encode(T.status, status))).toStrictEqual(statusJson);
  });

  it('decodes an ERROR watch event whose object is a Status', () => {
    const frame = watchFrame('ERROR', envelope('v1', 'Status', encode(T.status, status)));
    expect(decodeWatchEvent(frame, 4, frame.length, DECODE_ALL)).toStrictEqual({
      type: 'ERROR',
      object: statusJson,
    });
  });

  it('leaves a BOOKMARK whole: omitted annotations stay on it, not on other events', () => {
    const meta = { resourceVersion: '5', annotations: { 'k8s.io/initial-events-end': 'true' } };
    const flags = decodeFlags(['metadata.annotations']);
    const decode = (type: string) => {
      const frame = watchFrame(type, envelope('v1', 'Service', encode(T.service, { metadata: meta })));
      return decodeWatchEvent(frame, 4, frame.length, flags).object.metadata;
    };
    expect(decode('BOOKMARK')).toStrictEqual(meta);
    expect(decode('ADDED')).toStrictEqual({ resourceVersion: '5' });
  });

  it('an ADDED object held at its resourceVersion is the held one, the rest of its message unread', () => {
    const { held, asked, store } = holdingOne('s', '7');
    const sliceAt = (rv: string) =>
      encode(T.slice, {
        metadata: { name: 's', namespace: 'ns', resourceVersion: rv },
        endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
        addressType: 'IPv4',
      });
    const frame = (type: string, kind: string, raw: Buffer) =>
      watchFrame(type, envelope(kind === 'Service' ? 'v1' : 'discovery.k8s.io/v1', kind, raw));
    const decode = (f: Buffer) => decodeWatchEvent(f, 4, f.length, DECODE_ALL, store).object;
    expect(decode(frame('ADDED', 'EndpointSlice', sliceAt('7')))).toBe(held);
    // The message after the metadata is not read: bytes no decoder accepts go unnoticed.
    const garbled = Buffer.concat([sliceAt('7'), Buffer.from([0x12, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff])]);
    expect(decode(frame('ADDED', 'EndpointSlice', garbled))).toBe(held);
    const service = encode(T.service, { metadata: { name: 's', namespace: 'ns', resourceVersion: '7' } });
    expect(decode(frame('ADDED', 'Service', service))).toBe(held);
    // Another version, or another event type, is decoded as always.
    const newer = decode(frame('ADDED', 'EndpointSlice', sliceAt('8')));
    expect(newer).toMatchObject({ kind: 'EndpointSlice', endpoints: [{ addresses: ['10.0.0.1'] }] });
    const modified = decode(frame('MODIFIED', 'EndpointSlice', sliceAt('7')));
    expect(modified).not.toBe(held);
    expect(modified).toMatchObject({ metadata: { resourceVersion: '7' }, addressType: 'IPv4' });
    expect(asked).toEqual(['ns/s@7', 'ns/s@7', 'ns/s@7', 'ns/s@8']);
  });

  it('decodes lists: ListMeta, items without kind/apiVersion, each through `each`', () => {
    const list = envelope(
      'v1',
      'ServiceList',
      encode(T.serviceList, {
        metadata: { selfLink: '', resourceVersion: '77', continue: 'c', remainingItemCount: 5 },
        items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
      }),
    );
    const seen: unknown[] = [];
    const got = decodeList<Record<string, unknown>>(list, DECODE_ALL, (item) => {
      seen.push(item);
      return { name: (item.metadata as { name: string }).name };
    });
    expect(got).toStrictEqual({
      metadata: { resourceVersion: '77', continue: 'c', remainingItemCount: 5 },
      items: [{ name: 'a' }, { name: 'b' }],
    });
    expect(seen[0]).toStrictEqual({ metadata: { name: 'a' }, spec: {}, status: { loadBalancer: {} } });
  });

  it('refuses bytes without k8s\\0, an unknown kind, an event without an object', () => {
    const raw = encode(T.service, {});
    expect(() => decodeEnvelopedObject(raw, 0, raw.length, DECODE_ALL)).toThrow(/does not start with k8s/);
    const pod = envelope('v1', 'Pod', raw);
    expect(() => decodeEnvelopedObject(pod, 0, pod.length, DECODE_ALL)).toThrow(/kind "Pod" is not decoded/);
    const event = encode(T.watchEvent, { type: 'ADDED' });
    expect(() => decodeWatchEvent(event, 0, event.length, DECODE_ALL)).toThrow(ProtobufDecodeError);
    const list = envelope('v1', 'PodList', raw);
    expect(() => decodeList(list, DECODE_ALL, (x) => x)).toThrow(/PodList/);
  });

  it('every truncation of an event is a ProtobufDecodeError', () => {
    const frame = watchFrame(
      'ADDED',
      envelope('v1', 'Service', encode(T.service, { metadata: fullMeta, spec: { clusterIP: 'x' } })),
    );
    for (let cut = 5; cut < frame.length; cut++) {
      expect(() => decodeWatchEvent(frame, 4, cut, DECODE_ALL)).toThrow(ProtobufDecodeError);
    }
  });
});
