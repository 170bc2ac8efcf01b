import type { StatusCause } from './api-error';
import { compileDeviceSelector, isDeviceSelectorError } from './dra-cel';
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  forbiddenCause,
  invalidCause,
  notSupportedCause,
  requiredCause,
  tooLongCause,
  tooManyCause,
} from './field-errors';
import { sameJson } from './json-equality';
import type { KubeObject } from './kube-object';

type Obj = Record<string, unknown>;

/** Upstream's limits (pkg/apis/resource/types.go). */
export const DRA_LIMITS = {
  requests: 32,
  selectors: 32,
  constraints: 32,
  config: 32,
  firstAvailable: 8,
  sliceDevices: 128,
  reservedFor: 256,
  poolNameLength: 253,
  driverNameLength: 63,
} as const;

/** field.Invalid for values that are not strings (objects printed as JSON, as close to Go's %v as a test needs). */
const invalidValue = (field: string, value: unknown, detail: string): StatusCause =>
  typeof value === 'object' && value !== null
    ? { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` }
    : invalidCause(field, value ?? '', detail);
const duplicate = (field: string, value: unknown): StatusCause => ({
  reason: 'FieldValueDuplicate',
  field,
  message: `Duplicate value: ${JSON.stringify(value)}`,
});

function labelCauses(value: unknown, field: string): StatusCause[] {
  if (typeof value !== 'string' || value === '') return [requiredCause(field)];
  return dns1123LabelErrors(value).map((m) => invalidCause(field, value, m));
}

function subdomainCauses(value: unknown, field: string): StatusCause[] {
  if (typeof value !== 'string' || value === '') return [requiredCause(field)];
  return dns1123SubdomainErrors(value).map((m) => invalidCause(field, value, m));
}

/** A driver name: what a CSI driver's name may be (upstream reuses ValidateCSIDriverName: 63 bytes, a subdomain). */
function driverCauses(value: unknown, field: string): StatusCause[] {
  if (typeof value !== 'string' || value === '') return [requiredCause(field)];
  const out: StatusCause[] = [];
  if (value.length > DRA_LIMITS.driverNameLength) out.push(tooLongCause(field, DRA_LIMITS.driverNameLength));
  out.push(...dns1123SubdomainErrors(value.toLowerCase()).map((m) => invalidCause(field, value, m)));
  return out;
}

function poolNameCauses(value: unknown, field: string): StatusCause[] {
  if (typeof value !== 'string' || value === '') return [requiredCause(field)];
  const out: StatusCause[] = [];
  if (value.length > DRA_LIMITS.poolNameLength) out.push(tooLongCause(field, DRA_LIMITS.poolNameLength));
  for (const part of value.split('/'))
    out.push(...dns1123SubdomainErrors(part).map((m) => invalidCause(field, part, m)));
  return out;
}

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

function selectorCauses(selectors: unknown, field: string): StatusCause[] {
  const all = list(selectors);
  const out: StatusCause[] = [];
  if (all.length > DRA_LIMITS.selectors) out.push(tooManyCause(field, all.length, DRA_LIMITS.selectors));
  all.forEach((s, i) => {
    const cel = s?.cel as Obj | undefined;
    const exprField = `${field}[${i}].cel.expression`;
    if (!cel) {
      out.push(requiredCause(`${field}[${i}].cel`));
      return;
    }
    if (typeof cel.expression !== 'string' || cel.expression === '') {
      out.push(requiredCause(exprField));
      return;
    }
    try {
      compileDeviceSelector(cel.expression, exprField);
    } catch (err) {
      if (!isDeviceSelectorError(err)) throw err;
      out.push(invalidValue(exprField, cel.expression, err.reason));
    }
  });
  return out;
}

/** An `exactly` request or a `firstAvailable` subrequest (without its name). */
function deviceRequestCauses(r: Obj, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  const cls = r.deviceClassName;
  out.push(
    ...(cls ? subdomainCauses(cls, `${field}.deviceClassName`) : [requiredCause(`${field}.deviceClassName`)]),
  );
  out.push(...selectorCauses(r.selectors, `${field}.selectors`));
  const count = typeof r.count === 'number' ? r.count : 0;
  if (r.allocationMode === 'All') {
    if (count !== 0)
      out.push(invalidValue(`${field}.count`, count, "must not be specified when allocationMode is 'All'"));
  } else if (r.allocationMode === 'ExactCount') {
    if (count <= 0) out.push(invalidValue(`${field}.count`, count, 'must be greater than zero'));
  } else {
    out.push(
      notSupportedCause(`${field}.allocationMode`, String(r.allocationMode ?? ''), ['All', 'ExactCount']),
    );
  }
  list(r.tolerations).forEach((t, i) => {
    const op = t?.operator;
    if (op !== 'Equal' && op !== 'Exists')
      out.push(
        notSupportedCause(`${field}.tolerations[${i}].operator`, String(op ?? ''), ['Equal', 'Exists']),
      );
  });
  return out;
}

/** Request names and, for firstAvailable requests, their subrequests' names. */
function requestNames(devices: Obj | undefined): Map<string, Set<string> | undefined> {
  const names = new Map<string, Set<string> | undefined>();
  for (const r of list(devices?.requests)) {
    const subs = list(r?.firstAvailable);
    names.set(
      String(r?.name ?? ''),
      subs.length > 0 ? new Set(subs.map((s) => String(s?.name ?? ''))) : undefined,
    );
  }
  return names;
}

function requestRefCauses(
  ref: unknown,
  field: string,
  names: Map<string, Set<string> | undefined>,
): StatusCause[] {
  const segments = String(ref ?? '').split('/');
  const known =
    segments.length <= 2 &&
    names.has(segments[0] as string) &&
    (segments.length === 1 || names.get(segments[0] as string)?.has(segments[1] as string) === true);
  return known
    ? []
    : [
        invalidValue(
          field,
          ref,
          "must be the name of a request in the claim or the name of a request and a subrequest separated by '/'",
        ),
      ];
}

function uniqueNameCauses(items: Obj[], field: string, max: number): StatusCause[] {
  const out: StatusCause[] = [];
  if (items.length > max) out.push(tooManyCause(field, items.length, max));
  const seen = new Set<string>();
  items.forEach((it, i) => {
    const n = String(it?.name ?? '');
    if (n && seen.has(n)) out.push(duplicate(`${field}[${i}].name`, n));
    seen.add(n);
  });
  return out;
}

/** validateDeviceClaim: a ResourceClaimSpec's `devices` at `field` (e.g. `spec.devices`). */
function deviceClaimCauses(devices: Obj | undefined, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  const requests = list(devices?.requests);
  out.push(...uniqueNameCauses(requests, `${field}.requests`, DRA_LIMITS.requests));
  requests.forEach((r, i) => {
    const rf = `${field}.requests[${i}]`;
    out.push(...labelCauses(r?.name, `${rf}.name`));
    const subs = list(r?.firstAvailable);
    const hasExactly = r?.exactly !== undefined && r?.exactly !== null;
    if (!hasExactly && subs.length === 0)
      out.push(requiredCause(rf, 'exactly one of `exactly` or `firstAvailable` is required'));
    else if (hasExactly && subs.length > 0)
      out.push(
        invalidValue(
          rf,
          null,
          'exactly one of `exactly` or `firstAvailable` is required, but multiple fields are set',
        ),
      );
    else if (hasExactly) out.push(...deviceRequestCauses(r.exactly as Obj, `${rf}.exactly`));
    else {
      out.push(...uniqueNameCauses(subs, `${rf}.firstAvailable`, DRA_LIMITS.firstAvailable));
      subs.forEach((s, j) => {
        out.push(...labelCauses(s?.name, `${rf}.firstAvailable[${j}].name`));
        out.push(...deviceRequestCauses(s, `${rf}.firstAvailable[${j}]`));
      });
    }
  });
  const names = requestNames(devices);
  const constraints = list(devices?.constraints);
  if (constraints.length > DRA_LIMITS.constraints)
    out.push(tooManyCause(`${field}.constraints`, constraints.length, DRA_LIMITS.constraints));
  constraints.forEach((c, i) => {
    list(c?.requests).forEach((ref, j) => {
      out.push(...requestRefCauses(ref, `${field}.constraints[${i}].requests[${j}]`, names));
    });
    if (!c?.matchAttribute && !c?.distinctAttribute)
      out.push(requiredCause(`${field}.constraints[${i}].matchAttribute`));
  });
  const config = list(devices?.config);
  if (config.length > DRA_LIMITS.config)
    out.push(tooManyCause(`${field}.config`, config.length, DRA_LIMITS.config));
  config.forEach((c, i) => {
    list(c?.requests).forEach((ref, j) => {
      out.push(...requestRefCauses(ref, `${field}.config[${i}].requests[${j}]`, names));
    });
    out.push(...opaqueCauses(c, `${field}.config[${i}]`));
  });
  return out;
}

function opaqueCauses(config: Obj | undefined, field: string): StatusCause[] {
  const opaque = config?.opaque as Obj | undefined;
  if (!opaque) return [requiredCause(`${field}.opaque`)];
  return driverCauses(opaque.driver, `${field}.opaque.driver`);
}

function deviceClassCauses(spec: Obj): StatusCause[] {
  const out = selectorCauses(spec.selectors, 'spec.selectors');
  const config = list(spec.config);
  if (config.length > DRA_LIMITS.config)
    out.push(tooManyCause('spec.config', config.length, DRA_LIMITS.config));
  config.forEach((c, i) => {
    out.push(...opaqueCauses(c, `spec.config[${i}]`));
  });
  return out;
}

const NODE_SCOPES = ['nodeName', 'nodeSelector', 'allNodes', 'perDeviceNodeSelection'] as const;

function resourceSliceCauses(spec: Obj): StatusCause[] {
  const out = driverCauses(spec.driver, 'spec.driver');
  const pool = (spec.pool ?? {}) as Obj;
  out.push(...poolNameCauses(pool.name, 'spec.pool.name'));
  if (typeof pool.resourceSliceCount !== 'number' || pool.resourceSliceCount <= 0)
    out.push(
      invalidValue('spec.pool.resourceSliceCount', pool.resourceSliceCount ?? 0, 'must be greater than zero'),
    );
  if (typeof pool.generation === 'number' && pool.generation < 0)
    out.push(invalidValue('spec.pool.generation', pool.generation, 'must be greater than or equal to zero'));
  const set: string[] = [];
  if (spec.nodeName !== undefined && spec.nodeName !== null) {
    if (spec.nodeName === '')
      out.push(invalidValue('spec.nodeName', '', 'must be either unset or set to a non-empty string'));
    else {
      set.push('`nodeName`');
      out.push(...subdomainCauses(spec.nodeName, 'spec.nodeName'));
    }
  }
  if (spec.nodeSelector !== undefined && spec.nodeSelector !== null) {
    set.push('`nodeSelector`');
    if (list((spec.nodeSelector as Obj).nodeSelectorTerms).length !== 1)
      out.push(
        invalidValue(
          'spec.nodeSelector.nodeSelectorTerms',
          (spec.nodeSelector as Obj).nodeSelectorTerms,
          'must have exactly one node selector term',
        ),
      );
  }
  for (const flag of ['allNodes', 'perDeviceNodeSelection'] as const) {
    if (spec[flag] === undefined || spec[flag] === null) continue;
    if (spec[flag] === true) set.push(`\`${flag}\``);
    else out.push(invalidValue(`spec.${flag}`, spec[flag], 'must be either unset or set to true'));
  }
  const scopes = NODE_SCOPES.map((s) => `\`${s}\``).join(', ');
  if (set.length === 0) out.push(requiredCause('spec', `exactly one of ${scopes} is required`));
  else if (set.length > 1)
    out.push(
      invalidValue(
        'spec',
        `{${set.join(', ')}}`,
        `exactly one of ${scopes} is required, but multiple fields are set`,
      ),
    );
  const devices = list(spec.devices);
  out.push(...uniqueNameCauses(devices, 'spec.devices', DRA_LIMITS.sliceDevices));
  devices.forEach((d, i) => {
    out.push(...labelCauses(d?.name, `spec.devices[${i}].name`));
  });
  return out;
}

function claimStatusCauses(claim: KubeObject): StatusCause[] {
  const status = (claim.status ?? {}) as Obj;
  const out: StatusCause[] = [];
  const reserved = list(status.reservedFor);
  if (reserved.length > DRA_LIMITS.reservedFor)
    out.push(tooManyCause('status.reservedFor', reserved.length, DRA_LIMITS.reservedFor));
  const uids = new Set<string>();
  reserved.forEach((r, i) => {
    for (const k of ['resource', 'name', 'uid'])
      if (!r?.[k]) out.push(requiredCause(`status.reservedFor[${i}].${k}`));
    if (r?.uid && uids.has(String(r.uid))) out.push(duplicate(`status.reservedFor[${i}]`, r));
    uids.add(String(r?.uid));
  });
  const allocation = status.allocation as Obj | undefined;
  if (reserved.length > 0 && !allocation)
    out.push(forbiddenCause('status.reservedFor', 'may not be specified when `allocated` is not set'));
  if (allocation) {
    const names = requestNames((claim.spec as Obj | undefined)?.devices as Obj | undefined);
    list((allocation.devices as Obj | undefined)?.results).forEach((r, i) => {
      const f = `status.allocation.devices.results[${i}]`;
      out.push(...requestRefCauses(r?.request, `${f}.request`, names));
      out.push(...driverCauses(r?.driver, `${f}.driver`));
      out.push(...poolNameCauses(r?.pool, `${f}.pool`));
      out.push(...labelCauses(r?.device, `${f}.device`));
    });
  }
  return out;
}

/**
 * What pkg/apis/resource/validation refuses on a create (and, for the parts not tied to the old
 * object, on every write) of a resource.k8s.io/v1 object: names, required fields, request and
 * device limits, allocation modes and counts, CEL selectors that do not compile, a
 * ResourceSlice's node scope, a claim's status invariants.
 */
export function draCauses(obj: KubeObject): StatusCause[] {
  const spec = (obj.spec ?? {}) as Obj;
  switch (obj.kind) {
    case 'DeviceClass':
      return deviceClassCauses(spec);
    case 'ResourceClaim':
      return [
        ...deviceClaimCauses(spec.devices as Obj | undefined, 'spec.devices'),
        ...claimStatusCauses(obj),
      ];
    case 'ResourceClaimTemplate':
      return deviceClaimCauses(
        (spec.spec as Obj | undefined)?.devices as Obj | undefined,
        'spec.spec.devices',
      );
    case 'ResourceSlice':
      return resourceSliceCauses(spec);
    default:
      return [];
  }
}

const immutable = (field: string, value: unknown): StatusCause =>
  invalidValue(field, value, 'field is immutable');

/**
 * What an update may not change: a claim's and a template's spec, a slice's driver, pool name
 * and node name, a claim's allocation once set; and no new consumers on a claim being deleted.
 */
export function draUpdateCauses(next: KubeObject, old: KubeObject): StatusCause[] {
  const spec = (next.spec ?? {}) as Obj;
  const oldSpec = (old.spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  switch (next.kind) {
    case 'ResourceClaim':
    case 'ResourceClaimTemplate':
      if (!sameJson(spec, oldSpec)) out.push(immutable('spec', spec));
      break;
    case 'ResourceSlice':
      for (const [f, a, b] of [
        ['spec.driver', spec.driver, oldSpec.driver],
        ['spec.pool.name', (spec.pool as Obj | undefined)?.name, (oldSpec.pool as Obj | undefined)?.name],
        ['spec.nodeName', spec.nodeName, oldSpec.nodeName],
      ] as const)
        if ((a ?? null) !== (b ?? null)) out.push(immutable(f, a));
      break;
  }
  if (next.kind === 'ResourceClaim') {
    const status = (next.status ?? {}) as Obj;
    const oldStatus = (old.status ?? {}) as Obj;
    if (status.allocation && oldStatus.allocation && !sameJson(status.allocation, oldStatus.allocation))
      out.push(immutable('status.allocation', status.allocation));
    if (next.metadata.deletionTimestamp) {
      const before = new Set(list(oldStatus.reservedFor).map((r) => String(r?.uid)));
      if (list(status.reservedFor).some((r) => !before.has(String(r?.uid))))
        out.push(
          forbiddenCause(
            'status.reservedFor',
            'new entries may not be added while `deallocationRequested` or `deletionTimestamp` are set',
          ),
        );
    }
  }
  return out;
}
