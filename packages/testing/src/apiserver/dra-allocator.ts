import {
  compileDeviceSelector,
  type DeviceAttributeValue,
  type DeviceSelector,
  isDeviceSelectorError,
  type SelectorDevice,
} from './dra-cel';
import type { KubeObject } from './kube-object';
import { matchesNodeAffinity } from './scheduler-filters';
import { type Taint, type Toleration, toleratesTaint } from './taints';

type Obj = Record<string, unknown>;

/** One device a node can reach: its slice's driver and pool, and where it was published. */
export interface CandidateDevice extends SelectorDevice {
  pool: string;
  name: string;
  taints?: Taint[];
  /** The node selector an allocation of it carries (undefined: reachable from every node). */
  nodeSelector?: Obj;
  /** A field of the device this allocator does not model (partitionable, shared or bound devices). */
  unsupported?: string;
}

/** The device fields this allocator honours; a device with any other is refused by name, never half used. */
const DEVICE_FIELDS = new Set([
  'name',
  'attributes',
  'capacity',
  'taints',
  'nodeName',
  'nodeSelector',
  'allNodes',
]);
/** The request fields this allocator honours (besides `name`). */
const REQUEST_FIELDS = new Set([
  'name',
  'deviceClassName',
  'selectors',
  'allocationMode',
  'count',
  'adminAccess',
  'tolerations',
]);

/** `driver/pool/device`, the identity of a device across the cluster. */
export const deviceKey = (d: { driver: string; pool: string; device?: string; name?: string }) =>
  `${d.driver}/${d.pool}/${d.device ?? d.name}`;

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

const nodeNameSelector = (node: string) => ({
  nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
});

function selectorMatchesNode(selector: Obj | undefined, node: KubeObject): boolean {
  const probe = {
    metadata: {},
    spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: selector } } },
  };
  return matchesNodeAffinity(probe as KubeObject, node);
}

/**
 * The devices of every complete pool a node can reach. A pool's slices of its highest
 * generation count, and only once all `resourceSliceCount` of them are published (upstream's
 * allocator treats an incomplete pool as unusable).
 */
export function devicesForNode(slices: readonly KubeObject[], node: KubeObject): CandidateDevice[] {
  const pools = new Map<string, KubeObject[]>();
  for (const s of slices) {
    const spec = (s.spec ?? {}) as Obj;
    const key = `${spec.driver}/${(spec.pool as Obj | undefined)?.name}`;
    pools.set(key, [...(pools.get(key) ?? []), s]);
  }
  const out: CandidateDevice[] = [];
  for (const members of pools.values()) {
    const gen = (s: KubeObject) => Number(((s.spec as Obj).pool as Obj | undefined)?.generation ?? 0);
    const newest = Math.max(...members.map(gen));
    const current = members.filter((s) => gen(s) === newest);
    const expected = Number(
      (((current[0]?.spec ?? {}) as Obj).pool as Obj | undefined)?.resourceSliceCount ?? 1,
    );
    if (current.length < expected) continue;
    for (const s of current) {
      const spec = s.spec as Obj;
      let sliceSelector: Obj | undefined;
      if (spec.nodeName) {
        if (spec.nodeName !== node.metadata.name) continue;
        sliceSelector = nodeNameSelector(node.metadata.name as string);
      } else if (spec.nodeSelector) {
        if (!selectorMatchesNode(spec.nodeSelector as Obj, node)) continue;
        sliceSelector = spec.nodeSelector as Obj;
      } else if (spec.allNodes !== true && spec.perDeviceNodeSelection !== true) continue;
      for (const d of list(spec.devices)) {
        let selector = sliceSelector;
        if (spec.perDeviceNodeSelection === true) {
          if (d.nodeName) {
            if (d.nodeName !== node.metadata.name) continue;
            selector = nodeNameSelector(node.metadata.name as string);
          } else if (d.nodeSelector) {
            if (!selectorMatchesNode(d.nodeSelector as Obj, node)) continue;
            selector = d.nodeSelector as Obj;
          } else if (d.allNodes !== true) continue;
        }
        out.push({
          driver: String(spec.driver),
          pool: String((spec.pool as Obj).name),
          name: String(d.name),
          attributes: (d.attributes ?? {}) as Record<string, DeviceAttributeValue>,
          capacity: (d.capacity ?? {}) as Record<string, { value?: string }>,
          allowMultipleAllocations: d.allowMultipleAllocations === true,
          taints: list(d.taints) as unknown as Taint[],
          nodeSelector: selector,
          unsupported: Object.keys(d).find((k) => !DEVICE_FIELDS.has(k) && d[k] !== false && d[k] !== null),
        });
      }
    }
  }
  return out;
}

/** Why a claim cannot be allocated on a node: a scheduler reason text (and whether it is final). */
export interface AllocationFailure {
  reason: string;
  /** UnschedulableAndUnresolvable upstream: a class that does not exist, a selector that fails. */
  unresolvable: boolean;
}

/** A claim's `status.allocation` as the scheduler writes it. */
export interface ClaimAllocation {
  devices: { results: Obj[]; config?: Obj[] };
  nodeSelector?: Obj;
}

/** The value of a fully qualified attribute (`domain/name`) on a device. */
function attributeOf(d: CandidateDevice, qualified: string): unknown {
  const attrs = d.attributes ?? {};
  const slash = qualified.lastIndexOf('/');
  const bare = slash >= 0 && qualified.slice(0, slash) === d.driver ? qualified.slice(slash + 1) : undefined;
  const a = attrs[qualified] ?? (bare !== undefined ? attrs[bare] : undefined);
  return a === undefined ? undefined : JSON.stringify(a);
}

interface Constraint {
  requests: string[];
  attribute: string;
  distinct: boolean;
  pinned?: unknown;
  seen: Set<unknown>;
}

/** One claim's allocation pass: what its requests draw from and what they took so far. */
interface ClaimPass {
  claimName: string;
  devices: readonly CandidateDevice[];
  classes: ReadonlyMap<string, KubeObject>;
  inUse: Set<string>;
  taken: Set<string>;
  /** The class config of each request allocated so far (`_request` names it). */
  classConfig: Obj[];
  constraints: Constraint[];
}

/** The constraints that cover a request (a subrequest `req/sub` is covered by those naming `req`). */
const covering = (constraints: Constraint[], request: string) =>
  constraints.filter(
    (c) =>
      c.requests.length === 0 ||
      c.requests.includes(request) ||
      c.requests.includes(request.split('/')[0] as string),
  );

/** The class's and the request's selectors, compiled; the DeviceSelectorError of one that does not compile. */
function compileSelectors(
  cls: KubeObject,
  className: string,
  r: Obj,
  field: string,
): DeviceSelector[] | { message: string } {
  try {
    return [
      ...list((cls.spec as Obj | undefined)?.selectors).map((s, i) =>
        compileDeviceSelector(
          String((s.cel as Obj | undefined)?.expression ?? ''),
          `DeviceClass ${className} spec.selectors[${i}].cel.expression`,
        ),
      ),
      ...list(r.selectors).map((s, i) =>
        compileDeviceSelector(
          String((s.cel as Obj | undefined)?.expression ?? ''),
          `${field}.selectors[${i}].cel.expression`,
        ),
      ),
    ];
  } catch (err) {
    if (isDeviceSelectorError(err)) return { message: err.message };
    throw err;
  }
}

/** Class config applies to the requests allocated from that class (`FromClass`); claim config as written (`FromClaim`). */
function allocationConfig(classConfig: Obj[], claimConfig: Obj[]): Obj[] {
  const byClass = new Map<string, { config: Obj; requests: string[] }>();
  for (const c of classConfig) {
    const { _request, ...config } = c;
    const k = JSON.stringify(config);
    const entry = byClass.get(k) ?? { config, requests: [] };
    entry.requests.push(String(_request));
    byClass.set(k, entry);
  }
  return [
    ...[...byClass.values()].map((e) => ({ source: 'FromClass', requests: e.requests, ...e.config })),
    ...claimConfig.map((c) => ({ source: 'FromClaim', ...c })),
  ];
}

/** Devices for one request (or subrequest) named `name`; a failure text when there are not enough. */
function pick(pass: ClaimPass, r: Obj, name: string, field: string): Obj[] | AllocationFailure {
  const { claimName, classes, devices, inUse, taken } = pass;
  const unknown = Object.keys(r).find((k) => !REQUEST_FIELDS.has(k));
  if (unknown)
    return {
      reason: `resource claim ${claimName}: ${field}.${unknown} is not supported by this scheduler`,
      unresolvable: true,
    };
  const className = String(r.deviceClassName ?? '');
  const cls = classes.get(className);
  if (!cls)
    return {
      reason: `resource claim ${claimName}, request ${name}: device class ${className} does not exist`,
      unresolvable: true,
    };
  const selectors = compileSelectors(cls, className, r, field);
  if (!Array.isArray(selectors))
    return { reason: `resource claim ${claimName}: ${selectors.message}`, unresolvable: true };
  const tolerations = list(r.tolerations) as unknown as Toleration[];
  const admin = r.adminAccess === true;
  const all = r.allocationMode === 'All';
  const want = all ? Number.POSITIVE_INFINITY : Number(r.count ?? 1);
  const chosen: CandidateDevice[] = [];
  const myConstraints = covering(pass.constraints, name);
  for (const d of devices) {
    if (chosen.length >= want) break;
    const key = deviceKey(d);
    const busy = (inUse.has(key) && !admin) || taken.has(key);
    const untolerated = (d.taints ?? []).some(
      (t) =>
        (t.effect === 'NoSchedule' || t.effect === 'NoExecute') &&
        !tolerations.some((tol) => toleratesTaint(tol, t)),
    );
    let matches: boolean;
    try {
      matches = selectors.every((s) => s.matches(d));
    } catch (err) {
      if (isDeviceSelectorError(err))
        return { reason: `resource claim ${claimName}: ${err.message}`, unresolvable: true };
      throw err;
    }
    if (!matches || untolerated) continue;
    if (d.unsupported)
      return {
        reason: `resource claim ${claimName}: device ${key} has spec.devices[].${d.unsupported} in its ResourceSlice, which this scheduler does not support`,
        unresolvable: true,
      };
    // A device an "All" request matches but another claim holds makes the request unsatisfiable.
    if (busy) {
      if (all) return { reason: 'cannot allocate all claims', unresolvable: false };
      continue;
    }
    const fits = myConstraints.every((c) => {
      const v = attributeOf(d, c.attribute);
      if (v === undefined) return false;
      const pinned = c.pinned ?? chosen.map((x) => attributeOf(x, c.attribute))[0];
      return c.distinct
        ? !c.seen.has(v) && !chosen.some((x) => attributeOf(x, c.attribute) === v)
        : pinned === undefined || pinned === v;
    });
    if (fits) chosen.push(d);
  }
  if (chosen.length === 0 || chosen.length < want) {
    if (!(all && chosen.length > 0)) return { reason: 'cannot allocate all claims', unresolvable: false };
  }
  for (const d of chosen) {
    taken.add(deviceKey(d));
    for (const c of myConstraints) {
      const v = attributeOf(d, c.attribute);
      if (c.distinct) c.seen.add(v);
      else c.pinned ??= v;
    }
  }
  const classConfigs = list((cls.spec as Obj | undefined)?.config);
  if (classConfigs.length > 0) pass.classConfig.push(...classConfigs.map((c) => ({ ...c, _request: name })));
  return chosen.map((d) => ({
    request: name,
    driver: d.driver,
    pool: d.pool,
    device: d.name,
    ...(admin ? { adminAccess: true } : {}),
    _selector: d.nodeSelector,
  }));
}

/**
 * Allocate one claim's requests on one node (kube-scheduler's DynamicResources plugin with the
 * structured-parameters allocator, greedily: the first fitting devices in slice order, no
 * backtracking): `exactly` requests with ExactCount or All, `firstAvailable` subrequests in order,
 * the DeviceClass's and the request's CEL selectors, device taints against the request's
 * tolerations, `matchAttribute`/`distinctAttribute` constraints, class and claim config.
 * `inUse` holds the `driver/pool/device` keys other claims hold; devices chosen here are added.
 */
export function allocateClaim(
  claim: KubeObject,
  node: KubeObject,
  devices: readonly CandidateDevice[],
  classes: ReadonlyMap<string, KubeObject>,
  inUse: Set<string>,
): ClaimAllocation | AllocationFailure {
  const claimName = `${claim.metadata.namespace}/${claim.metadata.name}`;
  const spec = ((claim.spec as Obj | undefined)?.devices ?? {}) as Obj;
  const taken = new Set<string>();
  const results: Obj[] = [];
  const classConfig: Obj[] = [];
  const constraints: Constraint[] = list(spec.constraints).map((c) => ({
    requests: list(c.requests) as unknown as string[],
    attribute: String(c.matchAttribute ?? c.distinctAttribute),
    distinct: c.matchAttribute === undefined,
    seen: new Set(),
  }));
  const pass: ClaimPass = { claimName, devices, classes, inUse, taken, classConfig, constraints };
  for (const [i, r] of list(spec.requests).entries()) {
    const name = String(r.name);
    let got: Obj[] | AllocationFailure;
    if (r.exactly) got = pick(pass, r.exactly as Obj, name, `spec.devices.requests[${i}].exactly`);
    else {
      got = { reason: 'cannot allocate all claims', unresolvable: false };
      for (const [j, sub] of list(r.firstAvailable).entries()) {
        const attempt = pick(
          pass,
          sub,
          `${name}/${sub.name}`,
          `spec.devices.requests[${i}].firstAvailable[${j}]`,
        );
        got = attempt;
        if (Array.isArray(attempt) || attempt.unresolvable) break;
      }
    }
    if (!Array.isArray(got)) return got;
    results.push(...got);
  }

  const config = allocationConfig(classConfig, list(spec.config));
  const selectors = results.map((r) => r._selector as Obj | undefined);
  const nodeSelector =
    selectors.find(
      (s) => s && JSON.stringify(s) === JSON.stringify(nodeNameSelector(String(node.metadata.name))),
    ) ?? selectors.find((s) => s !== undefined);
  for (const r of results) delete r._selector;
  return {
    devices: { results, ...(config.length > 0 ? { config } : {}) },
    ...(nodeSelector ? { nodeSelector } : {}),
  };
}
