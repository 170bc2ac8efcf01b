import { describe, expect, it } from 'vitest';
import { allocateClaim, devicesForNode } from '../src/apiserver/dra-allocator';
import { compileDeviceSelector, isDeviceSelectorError } from '../src/apiserver/dra-cel';
import type { KubeObject } from '../src/apiserver/kube-object';

// biome-ignore lint/suspicious/noExplicitAny: test fixtures are arbitrary wire JSON
type Wire = any;

const D = 'gpu.example.com';
const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { name, labels },
});
const slice = (spec: Wire): KubeObject => ({
  metadata: { name: 's' },
  spec: { driver: D, pool: { name: 'pool', generation: 1, resourceSliceCount: 1 }, ...spec },
});
const dev = (name: string, attributes: Wire = {}, extra: Wire = {}) => ({ name, attributes, ...extra });
const cls = (name: string, expression?: string, config?: Wire[]): KubeObject => ({
  metadata: { name },
  spec: { ...(expression ? { selectors: [{ cel: { expression } }] } : {}), ...(config ? { config } : {}) },
});
const claim = (devices: Wire): KubeObject => ({
  metadata: { name: 'c', namespace: 'ns' },
  spec: { devices },
});
const classes = new Map([[D, cls(D, `device.driver == "${D}"`)]]);
const exactly = (name: string, r: Wire = {}) => ({
  name,
  exactly: { deviceClassName: D, allocationMode: 'ExactCount', count: 1, ...r },
});
const picked = (a: Wire) => a.devices.results.map((r: Wire) => `${r.request}=${r.device}`);

describe('devicesForNode', () => {
  it('takes node-local, node-selector and all-nodes slices that reach the node, of complete pools of the newest generation', () => {
    const slices = [
      slice({ nodeName: 'n1', devices: [dev('a')] }),
      slice({
        nodeName: 'n2',
        devices: [dev('b')],
        pool: { name: 'p2', generation: 1, resourceSliceCount: 1 },
      }),
      slice({
        nodeSelector: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }],
        },
        devices: [dev('c')],
        pool: { name: 'zonal', generation: 1, resourceSliceCount: 1 },
      }),
      slice({
        allNodes: true,
        devices: [dev('d')],
        pool: { name: 'net', generation: 1, resourceSliceCount: 1 },
      }),
      // An old generation and an incomplete pool are not used.
      slice({
        allNodes: true,
        devices: [dev('old')],
        pool: { name: 'gen', generation: 1, resourceSliceCount: 1 },
      }),
      slice({
        allNodes: true,
        devices: [dev('new')],
        pool: { name: 'gen', generation: 2, resourceSliceCount: 1 },
      }),
      slice({
        allNodes: true,
        devices: [dev('half')],
        pool: { name: 'split', generation: 1, resourceSliceCount: 2 },
      }),
    ];
    expect(devicesForNode(slices, node('n1', { zone: 'x' })).map((d) => d.name)).toEqual([
      'a',
      'c',
      'd',
      'new',
    ]);
    expect(devicesForNode(slices, node('n2')).map((d) => d.name)).toEqual(['b', 'd', 'new']);
  });
});

describe('allocateClaim', () => {
  const n1 = node('n1');
  const local = devicesForNode(
    [
      slice({
        nodeName: 'n1',
        devices: [
          dev('d0', { model: { string: 'a' } }),
          dev('d1', { model: { string: 'b' } }),
          dev('d2', { model: { string: 'b' } }),
        ],
      }),
    ],
    n1,
  );

  it('allocates ExactCount devices in slice order, skipping those in use, with a node selector on the node name', () => {
    const a: Wire = allocateClaim(
      claim({ requests: [exactly('r', { count: 2 })] }),
      n1,
      local,
      classes,
      new Set([`${D}/pool/d0`]),
    );
    expect(picked(a)).toEqual(['r=d1', 'r=d2']);
    expect(a.devices.results[0]).toEqual({ request: 'r', driver: D, pool: 'pool', device: 'd1' });
    expect(a.nodeSelector).toEqual({
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
    });
    expect(
      allocateClaim(
        claim({ requests: [exactly('r', { count: 3 })] }),
        n1,
        local,
        classes,
        new Set([`${D}/pool/d0`]),
      ),
    ).toEqual({
      reason: 'cannot allocate all claims',
      unresolvable: false,
    });
  });

  it('gives an All request every matching device, and fails it when one of them is held', () => {
    const all = exactly('r', {
      allocationMode: 'All',
      count: undefined,
      selectors: [{ cel: { expression: `device.attributes["${D}"].model == "b"` } }],
    });
    expect(picked(allocateClaim(claim({ requests: [all] }), n1, local, classes, new Set()))).toEqual([
      'r=d1',
      'r=d2',
    ]);
    expect(
      allocateClaim(claim({ requests: [all] }), n1, local, classes, new Set([`${D}/pool/d2`])),
    ).toMatchObject({
      reason: 'cannot allocate all claims',
    });
  });

  it('tries firstAvailable subrequests in order and names the one used', () => {
    const r = {
      name: 'r',
      firstAvailable: [
        { name: 'big', deviceClassName: D, allocationMode: 'ExactCount', count: 5 },
        { name: 'small', deviceClassName: D, allocationMode: 'ExactCount', count: 1 },
      ],
    };
    expect(picked(allocateClaim(claim({ requests: [r] }), n1, local, classes, new Set()))).toEqual([
      'r/small=d0',
    ]);
  });

  it('keeps matchAttribute and distinctAttribute constraints across requests', () => {
    const same = claim({
      requests: [
        exactly('a', { selectors: [{ cel: { expression: `device.attributes["${D}"].model == "b"` } }] }),
        exactly('b'),
      ],
      constraints: [{ matchAttribute: `${D}/model` }],
    });
    expect(picked(allocateClaim(same, n1, local, classes, new Set()))).toEqual(['a=d1', 'b=d2']);
    const distinct = claim({
      requests: [exactly('a'), exactly('b')],
      constraints: [{ distinctAttribute: `${D}/model` }],
    });
    expect(picked(allocateClaim(distinct, n1, local, classes, new Set()))).toEqual(['a=d0', 'b=d1']);
  });

  it('leaves out devices with untolerated NoSchedule taints unless the request tolerates them', () => {
    const tainted = devicesForNode(
      [
        slice({
          nodeName: 'n1',
          devices: [dev('t', {}, { taints: [{ key: 'broken', effect: 'NoSchedule' }] }), dev('ok')],
        }),
      ],
      n1,
    );
    expect(
      picked(allocateClaim(claim({ requests: [exactly('r')] }), n1, tainted, classes, new Set())),
    ).toEqual(['r=ok']);
    const tolerant = exactly('r', { tolerations: [{ key: 'broken', operator: 'Exists' }] });
    expect(picked(allocateClaim(claim({ requests: [tolerant] }), n1, tainted, classes, new Set()))).toEqual([
      'r=t',
    ]);
  });

  it('carries class config (FromClass) and claim config (FromClaim) into the allocation', () => {
    const opaque = { opaque: { driver: D, parameters: { mode: 'fast' } } };
    const withConfig = new Map([[D, cls(D, undefined, [opaque])]]);
    const a: Wire = allocateClaim(
      claim({ requests: [exactly('r')], config: [{ requests: ['r'], ...opaque }] }),
      n1,
      local,
      withConfig,
      new Set(),
    );
    expect(a.devices.config).toEqual([
      { source: 'FromClass', requests: ['r'], ...opaque },
      { source: 'FromClaim', requests: ['r'], ...opaque },
    ]);
  });

  it('refuses by name what it does not model: consumable capacity requests, devices consuming counters', () => {
    expect(
      allocateClaim(
        claim({ requests: [exactly('r', { capacity: { requests: { memory: '1Gi' } } })] }),
        n1,
        local,
        classes,
        new Set(),
      ),
    ).toEqual({
      reason:
        'resource claim ns/c: spec.devices.requests[0].exactly.capacity is not supported by this scheduler',
      unresolvable: true,
    });
    const partitioned = devicesForNode(
      [
        slice({
          nodeName: 'n1',
          devices: [dev('p', {}, { consumesCounters: [{ counterSet: 'gpu', counters: {} }] })],
        }),
      ],
      n1,
    );
    expect(allocateClaim(claim({ requests: [exactly('r')] }), n1, partitioned, classes, new Set())).toEqual({
      reason: `resource claim ns/c: device ${D}/pool/p has spec.devices[].consumesCounters in its ResourceSlice, which this scheduler does not support`,
      unresolvable: true,
    });
  });

  it('refuses a missing class and a selector failing at run time, naming the claim, field and expression', () => {
    expect(
      allocateClaim(
        claim({ requests: [exactly('r', { deviceClassName: 'nope' })] }),
        n1,
        local,
        classes,
        new Set(),
      ),
    ).toEqual({
      reason: 'resource claim ns/c, request r: device class nope does not exist',
      unresolvable: true,
    });
    const bad: Wire = allocateClaim(
      claim({
        requests: [
          exactly('r', { selectors: [{ cel: { expression: 'device.attributes["x.io"].size > 1' } }] }),
        ],
      }),
      n1,
      local,
      classes,
      new Set(),
    );
    expect(bad.unresolvable).toBe(true);
    expect(bad.reason).toBe(
      'resource claim ns/c: spec.devices.requests[0].exactly.selectors[0].cel.expression: CEL runtime error: No such key: size (expression "device.attributes[\\"x.io\\"].size > 1")',
    );
  });
});

describe('compileDeviceSelector', () => {
  const device = {
    driver: D,
    attributes: { model: { string: 'a100' }, 'other.io/index': { int: 3 }, healthy: { bool: true } },
    capacity: { memory: { value: '40Gi' } },
  };
  it.each([
    [`device.driver == "${D}"`, true],
    [`device.attributes["${D}"].model == "a100" && device.attributes["${D}"].healthy`, true],
    ['device.attributes["other.io"].index >= 3', true],
    [`device.capacity["${D}"].memory.compareTo(quantity("32Gi")) > 0`, true],
    [`device.capacity["${D}"].memory.isLessThan(quantity("32Gi"))`, false],
    ['"model" in device.attributes["unknown.io"]', false],
  ])('%s is %s', (expression, expected) => {
    expect(compileDeviceSelector(expression, 'f').matches(device)).toBe(expected);
  });

  it('refuses what does not compile or is not a bool, with a typed error naming field and expression', () => {
    for (const [expression, code] of [
      ['device.driver ==', 'DRA_CEL_COMPILE'],
      ['semver("1.0.0") == semver("1.0.0")', 'DRA_CEL_COMPILE'],
      ['1 + 1', 'DRA_CEL_COMPILE'],
    ] as const) {
      const err = (() => {
        try {
          compileDeviceSelector(expression, 'spec.selectors[0].cel.expression');
        } catch (e) {
          return e;
        }
      })();
      expect(isDeviceSelectorError(err)).toBe(true);
      expect(err).toMatchObject({ code, field: 'spec.selectors[0].cel.expression', value: expression });
    }
    const notBool = compileDeviceSelector('device.driver', 'f');
    expect(() => notBool.matches(device)).toThrow(/expected a bool, got string/);
  });
});
