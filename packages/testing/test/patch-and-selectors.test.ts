import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch } from '../src/apiserver/json-patch';
import {
  matchesLabels,
  matchesStructuredSelector,
  parseLabelSelector,
} from '../src/apiserver/label-selector';
import { applyStrategicMergePatch } from '../src/apiserver/strategic-merge-patch';
import { ApiError } from '../src/index';

describe('strategic merge patch', () => {
  const node = {
    metadata: { name: 'n', labels: { a: '1' }, finalizers: ['x'] },
    status: {
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'MemoryPressure', status: 'False' },
      ],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      images: [{ names: ['a'] }],
    },
  };

  it('merges node conditions and addresses by type, replaces atomic lists', () => {
    const out = applyStrategicMergePatch('Node', node, {
      status: {
        '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'MemoryPressure' }],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
        addresses: [{ type: 'Hostname', address: 'n' }],
        images: [{ names: ['b'] }],
      },
    }) as typeof node;
    expect(out.status.conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'KubeletReady' },
      { type: 'MemoryPressure', status: 'False' },
    ]);
    expect(out.status.addresses.map((a) => a.type)).toEqual(['InternalIP', 'Hostname']);
    expect(out.status.images).toEqual([{ names: ['b'] }]);
    expect(out.status).not.toHaveProperty('$setElementOrder/conditions');
    expect(node.status.conditions[0]?.status).toBe('False'); // input untouched
  });

  it('supports $patch: delete / replace, null deletion, primitive merge lists and $deleteFromPrimitiveList', () => {
    const out = applyStrategicMergePatch('Node', node, {
      metadata: {
        labels: { a: null, b: '2' },
        finalizers: ['y'],
        '$deleteFromPrimitiveList/finalizers': ['x'],
      },
      status: { conditions: [{ type: 'MemoryPressure', $patch: 'delete' }] },
    }) as typeof node;
    expect(out.metadata.labels).toEqual({ b: '2' });
    expect(out.metadata.finalizers).toEqual(['y']);
    expect(out.status.conditions.map((c) => c.type)).toEqual(['Ready']);
    const replaced = applyStrategicMergePatch('Node', node, {
      status: { conditions: [{ $patch: 'replace' }, { type: 'PIDPressure', status: 'False' }] },
    }) as typeof node;
    expect(replaced.status.conditions).toEqual([{ type: 'PIDPressure', status: 'False' }]);
  });

  it('merges service ports by port and pod containers by name', () => {
    const svc = {
      spec: {
        ports: [
          { port: 80, name: 'http' },
          { port: 443, name: 'https' },
        ],
      },
    };
    const out = applyStrategicMergePatch('Service', svc, {
      spec: { ports: [{ port: 443, targetPort: 8443 }] },
    }) as {
      spec: { ports: unknown[] };
    };
    expect(out.spec.ports).toEqual([
      { port: 80, name: 'http' },
      { port: 443, name: 'https', targetPort: 8443 },
    ]);
    const pod = {
      spec: {
        containers: [
          { name: 'a', image: 'x:1' },
          { name: 'b', image: 'y:1' },
        ],
      },
    };
    const p2 = applyStrategicMergePatch('Pod', pod, {
      spec: { containers: [{ name: 'b', image: 'y:2' }] },
    }) as typeof pod;
    expect(p2.spec.containers.map((c) => c.image)).toEqual(['x:1', 'y:2']);
  });
});

describe('JSON patch and merge patch', () => {
  it('applies add/remove/replace/move/copy/test and rejects bad paths with 422', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'add', path: '/a/b/0', value: 0 },
      { op: 'move', from: '/c', path: '/d' },
      { op: 'copy', from: '/d', path: '/e' },
      { op: 'replace', path: '/e', value: 'y' },
      { op: 'remove', path: '/a/b/1' },
      { op: 'test', path: '/d', value: 'x' },
    ]);
    expect(out).toEqual({ a: { b: [0, 2, 3] }, d: 'x', e: 'y' });
    expect(doc).toEqual({ a: { b: [1, 2] }, c: 'x' });
    const bad = (() => {
      try {
        applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }]);
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).code).toBe(422);
  });

  it('merge patch: null deletes, objects merge, arrays replace (RFC 7386)', () => {
    expect(applyMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: null, b: { c: 9 }, e: [2] })).toEqual({
      b: { c: 9, d: 3 },
      e: [2],
    });
  });

  it('merge patch computed as a diff reproduces the target (property)', () => {
    const flat = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof(fc.string(), fc.integer()));
    fc.assert(
      fc.property(flat, flat, (from, to) => {
        const patch: Record<string, unknown> = { ...to };
        for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
        expect(applyMergePatch(from, patch)).toEqual(to);
      }),
    );
  });
});

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'fe', env: 'prod' };
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web, api)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing,app=web,env in (prod,stage)', true],
    ['missing!=x', true],
    ['', true],
  ])('%s → %s', (sel, expected) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(expected);
  });

  it('rejects garbage with a 400', () => {
    expect(() => parseLabelSelector('app=(web')).toThrow(ApiError);
  });

  it('matches structured selectors with matchExpressions', () => {
    expect(
      matchesStructuredSelector(
        { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
        labels,
      ),
    ).toBe(true);
    expect(
      matchesStructuredSelector({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels),
    ).toBe(false);
  });
});
