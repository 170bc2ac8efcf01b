import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelopedObject } from '../src/protobuf/envelope';
import { DECODE_ALL } from '../src/protobuf/omit';
import { encode, envelope, jsonToProto, T } from './protobuf-fixtures';

/*
 * decode(encode(x)) equals x, for x drawn in the API server's JSON shape (Go's encoding/json
 * rules: an `omitempty` value absent when empty, a pointer present when set even if zero, a
 * nil slice without omitempty `null`). `jsonToProto` is the reverse mapping the Go object takes:
 * RFC 3339 strings to Time{seconds}, targetPort to IntOrString, fieldsV1 to FieldsV1{Raw}.
 */

type Json = Record<string, unknown>;

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const word = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const ascii = fc.stringMatching(/^[a-z0-9.-]{1,20}$/);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const nonZero32 = int32.filter((n) => n !== 0);
const int64 = fc.maxSafeInteger().filter((n) => n !== 0);
const time = fc
  .integer({ min: 0, max: 4102444800 })
  .map((s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z'));
const stringMap = fc.dictionary(text, text, { minKeys: 1, maxKeys: 4 });
const fieldsV1 = fc.dictionary(fc.constantFrom('f:a', 'f:b', 'k:{"x":1}'), fc.constant({}), { minKeys: 1 });

const ownerReference = fc.record(
  {
    apiVersion: text,
    kind: text,
    name: text,
    uid: text,
    controller: fc.boolean(),
    blockOwnerDeletion: fc.boolean(),
  },
  { requiredKeys: ['apiVersion', 'kind', 'name', 'uid'] },
);
const managedFieldsEntry = fc.record(
  {
    manager: word,
    operation: fc.constantFrom('Apply', 'Update'),
    apiVersion: word,
    time,
    fieldsType: fc.constant('FieldsV1'),
    fieldsV1,
    subresource: word,
  },
  { requiredKeys: [] },
);
const objectMeta = fc.record(
  {
    name: word,
    generateName: word,
    namespace: ascii,
    selfLink: word,
    uid: ascii,
    resourceVersion: fc.integer({ min: 1 }).map(String),
    generation: int64,
    creationTimestamp: time,
    deletionTimestamp: time,
    deletionGracePeriodSeconds: fc.integer({ min: -5, max: 600 }),
    labels: stringMap,
    annotations: stringMap,
    ownerReferences: fc.array(ownerReference, { minLength: 1, maxLength: 2 }),
    finalizers: fc.array(text, { minLength: 1, maxLength: 3 }),
    managedFields: fc.array(managedFieldsEntry, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const endpoint = fc.record(
  {
    addresses: fc.option(fc.array(ascii, { minLength: 1, maxLength: 3 }), { nil: null }),
    conditions: fc.record(
      { ready: fc.boolean(), serving: fc.boolean(), terminating: fc.boolean() },
      { requiredKeys: [] },
    ),
    hostname: text,
    targetRef: fc.record(
      {
        kind: word,
        namespace: word,
        name: word,
        uid: word,
        apiVersion: word,
        resourceVersion: word,
        fieldPath: word,
      },
      { requiredKeys: [] },
    ),
    deprecatedTopology: stringMap,
    nodeName: text,
    zone: text,
    hints: fc.record(
      {
        forZones: fc.array(fc.record({ name: text }), { minLength: 1, maxLength: 2 }),
        forNodes: fc.array(fc.record({ name: text }), { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['addresses', 'conditions'] },
);
const endpointPort = fc.record(
  { name: text, protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', ''), port: int32, appProtocol: text },
  { requiredKeys: [] },
);
const endpointSlice = fc.record({
  kind: fc.constant('EndpointSlice'),
  apiVersion: fc.constant('discovery.k8s.io/v1'),
  metadata: objectMeta,
  addressType: fc.constantFrom('IPv4', 'IPv6', 'FQDN', ''),
  endpoints: fc.option(fc.array(endpoint, { minLength: 1, maxLength: 4 }), { nil: null }),
  ports: fc.option(fc.array(endpointPort, { minLength: 1, maxLength: 3 }), { nil: null }),
});

const servicePort = fc.record(
  {
    name: word,
    protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
    appProtocol: text,
    port: int32,
    targetPort: fc.oneof(int32, text),
    nodePort: nonZero32,
  },
  { requiredKeys: ['port', 'targetPort'] },
);
const condition = fc.record(
  {
    type: text,
    status: fc.constantFrom('True', 'False', 'Unknown'),
    observedGeneration: int64,
    lastTransitionTime: fc.option(time, { nil: null }),
    reason: text,
    message: text,
  },
  { requiredKeys: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);
const ingress = fc.record(
  {
    ip: ascii,
    hostname: word,
    ipMode: fc.constantFrom('VIP', 'Proxy'),
    ports: fc.array(
      fc.record(
        { port: int32, protocol: fc.constantFrom('TCP', ''), error: text },
        { requiredKeys: ['port', 'protocol'] },
      ),
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
  },
  { requiredKeys: [] },
);
const strings = fc.array(ascii, { minLength: 1, maxLength: 2 });
const serviceSpec = fc.record(
  {
    ports: fc.array(servicePort, { minLength: 1, maxLength: 3 }),
    selector: stringMap,
    clusterIP: ascii,
    clusterIPs: strings,
    type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
    externalIPs: strings,
    sessionAffinity: fc.constantFrom('None', 'ClientIP'),
    loadBalancerIP: ascii,
    loadBalancerSourceRanges: strings,
    externalName: word,
    externalTrafficPolicy: fc.constantFrom('Cluster', 'Local'),
    healthCheckNodePort: nonZero32,
    publishNotReadyAddresses: fc.constant(true),
    sessionAffinityConfig: fc.record(
      { clientIP: fc.record({ timeoutSeconds: int32 }, { requiredKeys: [] }) },
      { requiredKeys: [] },
    ),
    ipFamilies: strings,
    ipFamilyPolicy: text,
    allocateLoadBalancerNodePorts: fc.boolean(),
    loadBalancerClass: text,
    internalTrafficPolicy: text,
    trafficDistribution: text,
  },
  { requiredKeys: [] },
);
const service = fc.record({
  kind: fc.constant('Service'),
  apiVersion: fc.constant('v1'),
  metadata: objectMeta,
  spec: serviceSpec,
  status: fc.record(
    {
      loadBalancer: fc.record(
        { ingress: fc.array(ingress, { minLength: 1, maxLength: 2 }) },
        { requiredKeys: [] },
      ),
      conditions: fc.array(condition, { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: ['loadBalancer'] },
  ),
});

function roundTrip(obj: Json, type: string): unknown {
  const { kind, apiVersion, ...rest } = obj;
  const meta = rest.metadata as Json;
  // Go writes a zero creationTimestamp as an empty message: the decoder must leave it out.
  const proto = jsonToProto('', { ...rest, metadata: { creationTimestamp: null, ...meta } }) as Json;
  if (!('creationTimestamp' in meta)) (proto.metadata as Json).creationTimestamp = {};
  const bytes = envelope(apiVersion as string, kind as string, encode(type, proto));
  return decodeEnvelopedObject(bytes, 0, bytes.length, DECODE_ALL);
}

/** fast-check's records may lack a prototype; the decoder's objects are plain. */
const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

describe('protobuf decode of encoded objects equals their JSON', () => {
  it('EndpointSlices', () => {
    fc.assert(
      fc.property(endpointSlice, (slice) => {
        expect(roundTrip(slice, T.slice)).toStrictEqual(plain(slice));
      }),
      { numRuns: 300 },
    );
  });

  it('Services', () => {
    fc.assert(
      fc.property(service, (svc) => {
        expect(roundTrip(svc, T.service)).toStrictEqual(plain(svc));
      }),
      { numRuns: 300 },
    );
  });
});
