import { readCondition } from './condition';
import { mapAt, pushTo, setString } from './fields';
import { type HeldObjects, heldFor } from './held-objects';
import { readObjectMeta } from './object-meta';
import type { DecodeFlags } from './omit';
import type { ProtoReader } from './reader';
import { readStringMapEntry } from './string-map';

/*
 * core/v1 Service as the API server's JSON has it (Go's encoding/json over the structs' tags):
 * `metadata`, `spec`, `status` and `status.loadBalancer` are non-pointer structs, so always
 * there (possibly `{}`); `omitempty` strings, numbers, bools, slices and maps only when not
 * empty; pointers whenever written.
 */

/**
 * A Service whose message spans `r.pos` to `end`; `kind`/`apiVersion` first when the envelope
 * gave them. The `held` object at its name and resourceVersion instead, when there is one.
 */
export function readService(
  r: ProtoReader,
  end: number,
  flags: DecodeFlags,
  apiVersion: string | undefined,
  held?: HeldObjects,
): Record<string, unknown> {
  const s: Record<string, unknown> =
    apiVersion === undefined ? { metadata: {} } : { kind: 'Service', apiVersion, metadata: {} };
  s.spec = {};
  if (!flags.status) s.status = { loadBalancer: {} };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) {
      s.metadata = readObjectMeta(r, flags);
      const kept = heldFor(held, s.metadata as Record<string, unknown>, r, end);
      if (kept) return kept;
    } else if (tag === 18) s.spec = readServiceSpec(r);
    else if (tag === 26 && !flags.status) s.status = readServiceStatus(r);
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'Service');
  return s;
}

// function-length: one switch over ServiceSpec's twenty fields, each a line or two
function readServiceSpec(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const spec: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    switch (tag) {
      case 10:
        pushTo(spec, 'ports', readServicePort(r));
        break;
      case 18:
        readStringMapEntry(r, mapAt(spec, 'selector'));
        break;
      case 26:
        setString(spec, 'clusterIP', r.string());
        break;
      case 34:
        setString(spec, 'type', r.string());
        break;
      case 42:
        pushTo(spec, 'externalIPs', r.string());
        break;
      case 58:
        setString(spec, 'sessionAffinity', r.string());
        break;
      case 66:
        setString(spec, 'loadBalancerIP', r.string());
        break;
      case 74:
        pushTo(spec, 'loadBalancerSourceRanges', r.string());
        break;
      case 82:
        setString(spec, 'externalName', r.string());
        break;
      case 90:
        setString(spec, 'externalTrafficPolicy', r.string());
        break;
      case 96: {
        const port = r.int32();
        if (port !== 0) spec.healthCheckNodePort = port;
        break;
      }
      case 104:
        if (r.bool()) spec.publishNotReadyAddresses = true;
        break;
      case 114:
        spec.sessionAffinityConfig = readSessionAffinityConfig(r);
        break;
      case 138:
        spec.ipFamilyPolicy = r.string();
        break;
      case 146:
        pushTo(spec, 'clusterIPs', r.string());
        break;
      case 154:
        pushTo(spec, 'ipFamilies', r.string());
        break;
      case 160:
        spec.allocateLoadBalancerNodePorts = r.bool();
        break;
      case 170:
        spec.loadBalancerClass = r.string();
        break;
      case 178:
        spec.internalTrafficPolicy = r.string();
        break;
      case 186:
        spec.trafficDistribution = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'ServiceSpec');
  return spec;
}

/** `port` has no omitempty; `targetPort` is a non-pointer IntOrString, so always there (0 when unset). */
function readServicePort(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const p: Record<string, unknown> = {};
  let port = 0;
  let targetPort: number | string = 0;
  let nodePort = 0;
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) setString(p, 'name', r.string());
    else if (tag === 18) setString(p, 'protocol', r.string());
    else if (tag === 24) port = r.int32();
    else if (tag === 34) targetPort = readIntOrString(r);
    else if (tag === 40) nodePort = r.int32();
    else if (tag === 50) p.appProtocol = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ServicePort');
  p.port = port;
  p.targetPort = targetPort;
  if (nodePort !== 0) p.nodePort = nodePort;
  return p;
}

/** intstr.IntOrString {type(1) 0=int 1=string, intVal(2), strVal(3)}: its JSON is the number or the string. */
function readIntOrString(r: ProtoReader): number | string {
  const end = r.end();
  let type = 0;
  let intVal = 0;
  let strVal = '';
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 8) type = r.int64();
    else if (tag === 16) intVal = r.int32();
    else if (tag === 26) strVal = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'IntOrString');
  return type === 1 ? strVal : intVal;
}

function readSessionAffinityConfig(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const c: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) c.clientIP = readClientIPConfig(r);
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'SessionAffinityConfig');
  return c;
}

function readClientIPConfig(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const c: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 8) c.timeoutSeconds = r.int32();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ClientIPConfig');
  return c;
}

function readServiceStatus(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const s: Record<string, unknown> = { loadBalancer: {} };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) s.loadBalancer = readLoadBalancerStatus(r);
    else if (tag === 18) pushTo(s, 'conditions', readCondition(r));
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ServiceStatus');
  return s;
}

function readLoadBalancerStatus(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const s: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) pushTo(s, 'ingress', readLoadBalancerIngress(r));
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'LoadBalancerStatus');
  return s;
}

function readLoadBalancerIngress(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const i: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) setString(i, 'ip', r.string());
    else if (tag === 18) setString(i, 'hostname', r.string());
    else if (tag === 26) i.ipMode = r.string();
    else if (tag === 34) pushTo(i, 'ports', readPortStatus(r));
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'LoadBalancerIngress');
  return i;
}

/** `port` and `protocol` have no omitempty; `error` is a pointer. */
function readPortStatus(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const p: Record<string, unknown> = { port: 0, protocol: '' };
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 8) p.port = r.int32();
    else if (tag === 18) p.protocol = r.string();
    else if (tag === 26) p.error = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'PortStatus');
  return p;
}
