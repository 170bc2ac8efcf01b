import { mapAt, pushTo } from './fields';
import { type HeldObjects, heldFor } from './held-objects';
import { readObjectMeta } from './object-meta';
import type { DecodeFlags } from './omit';
import type { ProtoReader } from './reader';
import { readStringMapEntry } from './string-map';

/*
 * discovery/v1 EndpointSlice as the API server's JSON has it: `addressType`, `endpoints`,
 * `ports` and each endpoint's `addresses` carry no omitempty (a nil slice is `null`); an
 * endpoint's `conditions` is a non-pointer struct (always, possibly `{}`); every other endpoint
 * and port field is a pointer, there whenever written. The hot path of a kube-proxy start:
 * one switch per message on the whole tag, objects made in one shape.
 */

/**
 * An EndpointSlice whose message spans `r.pos` to `end`; `kind`/`apiVersion` first when the
 * envelope gave them. The `held` object at its name and resourceVersion instead, when there is one.
 */
export function readEndpointSlice(
  r: ProtoReader,
  end: number,
  flags: DecodeFlags,
  apiVersion: string | undefined,
  held?: HeldObjects,
): Record<string, unknown> {
  const s: Record<string, unknown> =
    apiVersion === undefined
      ? { metadata: {}, addressType: '', endpoints: null, ports: null }
      : { kind: 'EndpointSlice', apiVersion, metadata: {}, addressType: '', endpoints: null, ports: null };
  let endpoints: unknown[] | null = null;
  let ports: unknown[] | null = null;
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 18) {
      if (endpoints === null) endpoints = [readEndpoint(r, flags)];
      else endpoints.push(readEndpoint(r, flags));
    } else if (tag === 26) {
      if (ports === null) ports = [readEndpointPort(r)];
      else ports.push(readEndpointPort(r));
    } else if (tag === 10) {
      s.metadata = readObjectMeta(r, flags);
      const kept = heldFor(held, s.metadata as Record<string, unknown>, r, end);
      if (kept) return kept;
    } else if (tag === 34) s.addressType = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'EndpointSlice');
  s.endpoints = endpoints;
  s.ports = ports;
  return s;
}

/** A placeholder keeping `conditions` second in an endpoint's shape; replaced by a fresh `{}` when unset. */
const EMPTY_CONDITIONS = Object.freeze({});

function readEndpoint(r: ProtoReader, flags: DecodeFlags): Record<string, unknown> {
  const end = r.end();
  let addresses: string[] | null = null;
  // Built from `{}` (four in-object slots), not a two-property literal (exactly two): the usual
  // endpoint's addresses, conditions, nodeName and targetRef then need no out-of-object store.
  const e: Record<string, unknown> = {};
  e.addresses = null;
  e.conditions = EMPTY_CONDITIONS;
  while (r.pos < end) {
    const tag = r.uint();
    switch (tag) {
      case 10:
        // `[first]` has room for exactly one (nearly every endpoint's count); `[]` then push
        // would allocate room for 17.
        if (addresses === null) addresses = [r.string()];
        else addresses.push(r.string());
        break;
      case 18:
        e.conditions = readEndpointConditions(r);
        break;
      case 26:
        e.hostname = r.string();
        break;
      case 34:
        if (flags.targetRef) r.skip(2);
        else e.targetRef = readObjectReference(r);
        break;
      case 42:
        if (flags.deprecatedTopology) r.skip(2);
        else readStringMapEntry(r, mapAt(e, 'deprecatedTopology'));
        break;
      case 50:
        e.nodeName = r.string();
        break;
      case 58:
        e.zone = r.string();
        break;
      case 66:
        if (flags.hints) r.skip(2);
        else e.hints = readEndpointHints(r);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  r.expectEnd(end, 'Endpoint');
  e.addresses = addresses;
  if (e.conditions === EMPTY_CONDITIONS) e.conditions = {};
  return e;
}

/** Three `*bool`s: each there when written, false included. */
function readEndpointConditions(r: ProtoReader): Record<string, boolean> {
  const end = r.end();
  const c: Record<string, boolean> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 8) c.ready = r.bool();
    else if (tag === 16) c.serving = r.bool();
    else if (tag === 24) c.terminating = r.bool();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'EndpointConditions');
  return c;
}

/** core/v1 ObjectReference: every field a string with omitempty. One named store per field (keyed stores were 2x slower). */
function readObjectReference(r: ProtoReader): Record<string, string> {
  const end = r.end();
  const o: Record<string, string> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if ((tag & 7) !== 2 || tag < 10 || tag > 58) {
      r.skip(tag & 7);
      continue;
    }
    const value = r.string();
    if (value === '') continue;
    if (tag === 10) o.kind = value;
    else if (tag === 18) o.namespace = value;
    else if (tag === 26) o.name = value;
    else if (tag === 34) o.uid = value;
    else if (tag === 42) o.apiVersion = value;
    else if (tag === 50) o.resourceVersion = value;
    else o.fieldPath = value;
  }
  r.expectEnd(end, 'ObjectReference');
  return o;
}

/** `forZones`/`forNodes` omitempty; each entry's `name` always. */
function readEndpointHints(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const h: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) pushTo(h, 'forZones', readNamed(r));
    else if (tag === 18) pushTo(h, 'forNodes', readNamed(r));
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'EndpointHints');
  return h;
}

/** ForZone and ForNode: {name(1)}. */
function readNamed(r: ProtoReader): { name: string } {
  const end = r.end();
  let name = '';
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) name = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'ForZone/ForNode');
  return { name };
}

/** Four pointers: each there when written. */
function readEndpointPort(r: ProtoReader): Record<string, unknown> {
  const end = r.end();
  const p: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 10) p.name = r.string();
    else if (tag === 18) p.protocol = r.string();
    else if (tag === 24) p.port = r.int32();
    else if (tag === 34) p.appProtocol = r.string();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'EndpointPort');
  return p;
}
