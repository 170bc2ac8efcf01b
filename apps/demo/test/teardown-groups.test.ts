import { describe, expect, it } from 'vitest';
import { type TeardownStep, teardownGroups } from '../src/demo';

const step = (title: string, together?: string): TeardownStep => ({
  title,
  run: async () => {},
  ...(together ? { together } : {}),
});

describe('teardownGroups', () => {
  it('runs the nodes’ containerds (next to each other, the same `together`) as one step; the rest one by one', () => {
    const list = [
      step('API relay'),
      step('containerd for node-2', 'containerd'),
      step('containerd for node-1', 'containerd'),
      step('fabric'),
      step('API server'),
    ];
    expect(teardownGroups(list).map((g) => g.map((s) => s.title))).toEqual([
      ['API relay'],
      ['containerd for node-2', 'containerd for node-1'],
      ['fabric'],
      ['API server'],
    ]);
  });

  it('keeps steps without `together`, and groups apart, each on its own', () => {
    const list = [step('a'), step('b'), step('c', 'x'), step('d', 'y'), step('e', 'x')];
    expect(teardownGroups(list).map((g) => g.length)).toEqual([1, 1, 1, 1, 1]);
  });
});
