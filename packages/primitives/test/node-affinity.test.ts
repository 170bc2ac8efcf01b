import { describe, expect, it } from 'vitest';
import {
  findUntoleratedTaint,
  type NodeSelectorTerm,
  nodeSelectorTermsMatchLabels,
  requiredNodeAffinityMatches,
  toleratesTaint,
} from '../src/scheduling/index';

const node = { metadata: { name: 'node-a', labels: { zone: 'a', gpu: 'true', cores: '16' } } };

function withTerms(...terms: NodeSelectorTerm[]) {
  return {
    spec: {
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
      },
    },
  };
}

describe('requiredNodeAffinityMatches (GetRequiredNodeAffinity(pod).Match(node))', () => {
  it.each([
    ['no constraint', {}, true],
    ['nodeSelector matching', { spec: { nodeSelector: { zone: 'a' } } }, true],
    ['nodeSelector with another value', { spec: { nodeSelector: { zone: 'b' } } }, false],
    [
      'nodeSelector naming a missing label with an empty value',
      { spec: { nodeSelector: { missing: '' } } },
      false,
    ],
    ['In', withTerms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b', 'a'] }] }), true],
    [
      'In without values never matches',
      withTerms({ matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] }),
      false,
    ],
    [
      'NotIn on a missing label',
      withTerms({ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] }),
      true,
    ],
    [
      'NotIn on the value',
      withTerms({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }),
      false,
    ],
    ['Exists', withTerms({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }), true],
    [
      'Exists with values is invalid',
      withTerms({ matchExpressions: [{ key: 'gpu', operator: 'Exists', values: ['true'] }] }),
      false,
    ],
    ['DoesNotExist', withTerms({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }), false],
    [
      'Gt as integers, not strings',
      withTerms({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['9'] }] }),
      true,
    ],
    ['Lt', withTerms({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['16'] }] }), false],
    [
      'Gt with a value that is no integer',
      withTerms({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['1e1'] }] }),
      false,
    ],
    [
      'Gt on a label that is no integer',
      withTerms({ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] }),
      false,
    ],
    [
      'terms are ORed',
      withTerms(
        { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
        { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] },
      ),
      true,
    ],
    [
      'a term ANDs its requirements',
      withTerms({
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['a'] },
          { key: 'gpu', operator: 'DoesNotExist' },
        ],
      }),
      false,
    ],
    ['an empty term matches nothing', withTerms({}), false],
    ['no terms match nothing', withTerms(), false],
    [
      'matchFields on metadata.name',
      withTerms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] }),
      true,
    ],
    [
      'matchFields NotIn',
      withTerms({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-a'] }] }),
      false,
    ],
    [
      'matchFields on another field',
      withTerms({ matchFields: [{ key: 'spec.unschedulable', operator: 'In', values: ['false'] }] }),
      false,
    ],
    [
      'nodeSelector and terms both apply',
      {
        spec: {
          ...withTerms({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }).spec,
          nodeSelector: { zone: 'b' },
        },
      },
      false,
    ],
  ])('%s', (_name, pod, expected) => {
    expect(requiredNodeAffinityMatches(pod, node)).toBe(expected);
  });
});

describe("nodeSelectorTermsMatchLabels (storagehelpers.CheckNodeAffinity's test)", () => {
  const terms = [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }];

  it('matches the labels, any term', () => {
    expect(nodeSelectorTermsMatchLabels(terms, { 'kubernetes.io/hostname': 'n1' })).toBe(true);
    expect(nodeSelectorTermsMatchLabels(terms, { 'kubernetes.io/hostname': 'n2' })).toBe(false);
    expect(
      nodeSelectorTermsMatchLabels([...terms, { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }], {
        zone: 'a',
      }),
    ).toBe(true);
  });

  it('tests a term on matchFields against a node without a name: a node name never matches', () => {
    const byName = (name: string) => [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [name] }] },
    ];
    expect(nodeSelectorTermsMatchLabels(byName('n1'), { 'kubernetes.io/hostname': 'n1' })).toBe(false);
    expect(nodeSelectorTermsMatchLabels(byName(''), {})).toBe(true);
  });
});

describe('taints and tolerations', () => {
  const taint = { key: 'dedicated', value: 'gpu', effect: 'NoExecute' };
  it.each([
    ['Equal on key and value', { key: 'dedicated', operator: 'Equal', value: 'gpu' }, true],
    ['Equal is the default operator', { key: 'dedicated', value: 'gpu' }, true],
    ['another value', { key: 'dedicated', value: 'cpu' }, false],
    ['Exists on the key', { key: 'dedicated', operator: 'Exists' }, true],
    ['Exists without a key tolerates every taint', { operator: 'Exists' }, true],
    ['another effect', { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, false],
    ['an unknown operator', { key: 'dedicated', operator: 'Gt', value: 'gpu' }, false],
  ])('%s', (_name, toleration, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });

  it('finds the first untolerated taint among those the filter keeps', () => {
    const taints = [
      { key: 'a', effect: 'NoSchedule' },
      { key: 'b', effect: 'NoExecute' },
    ];
    expect(findUntoleratedTaint(taints, [])).toEqual(taints[0]);
    expect(findUntoleratedTaint(taints, [], (t) => t.effect === 'NoExecute')).toEqual(taints[1]);
    expect(
      findUntoleratedTaint(taints, [{ key: 'b', operator: 'Exists' }], (t) => t.effect === 'NoExecute'),
    ).toBeUndefined();
  });
});
