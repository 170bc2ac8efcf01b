import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NftRuleset } from '../src/index';
import { IncrementalNftTable, type NftContribution, renderScript } from '../src/nftables/index';
import { FakeNftables } from '../src/testing/index';

const verdictMap = { kind: 'map', name: 'dispatch', type: 'ipv4_addr', valueType: 'verdict' } as const;
const base: NftContribution = {
  chains: [
    {
      chain: { kind: 'chain', name: 'entry', type: 'nat', hook: 'prerouting', priority: -100 },
      rules: [{ rule: 'ip daddr vmap @dispatch' }],
    },
  ],
  sets: [verdictMap],
};

/** An owner sending `ips` to a chain shared by every owner with the same `group`. */
function owner(ips: string[], group: number): NftContribution {
  return {
    chains: [{ chain: { kind: 'chain', name: `group-${group}` }, rules: [{ rule: `mark set ${group}` }] }],
    elements: ips.map((ip) => ({
      kind: 'element',
      container: 'dispatch',
      key: [ip],
      value: [`goto group-${group}`],
    })),
  };
}

function view(rs: NftRuleset) {
  return {
    chains: rs.chains.map((c) => c.name).sort(),
    rules: Object.entries(rs.rules)
      .filter(([, r]) => r.length > 0)
      .map(([c, r]) => `${c}:${r.map((x) => x.rule).join(';')}`)
      .sort(),
    elements: (rs.elements.dispatch ?? [])
      .map((e) => `${e.key.join('.')}=${(e.value ?? []).join(' ')}`)
      .sort(),
  };
}

describe('IncrementalNftTable', () => {
  it('keeps an owner of more elements than it presizes lists for (16,384) as one of a few', () => {
    const ips = (n: number, last: string) =>
      Array.from({ length: n }, (_, i) =>
        i === n - 1 ? last : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      );
    for (const n of [3, 20_000]) {
      const t = new IncrementalNftTable({ kind: 'table' });
      t.set('base', base);
      t.set('big', owner(ips(n, '192.168.0.1'), 1));
      t.commit();
      t.set('big', owner(ips(n, '192.168.0.2'), 1));
      const ops = t
        .diffTransaction()!
        .operations.map((o) => `${o.verb} ${(o.object as { key?: string[] }).key}`);
      expect(ops).toEqual(['delete 192.168.0.1', 'add 192.168.0.2']);
      expect(t.get('big')?.elements).toHaveLength(n);
      expect(t.get('big')?.elements?.[0]?.key).toEqual(['10.0.0.0']);
    }
  });

  it('diffs only what one owner changed', () => {
    const t = new IncrementalNftTable({ kind: 'table' });
    t.set('base', base);
    t.set('a', owner(['10.0.0.1', '10.0.0.2'], 1));
    t.set('b', owner(['10.0.0.3'], 1));
    expect(t.diffTransaction()).toBeUndefined(); // nothing committed: only a full replacement
    expect(
      t
        .fullTransaction()
        .operations.slice(0, 3)
        .map((o) => o.verb),
    ).toEqual(['add', 'delete', 'add']);
    t.commit();

    t.set('a', owner(['10.0.0.1', '10.0.0.4'], 1));
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe(
      'delete element ip t dispatch { 10.0.0.2 }\nadd element ip t dispatch { 10.0.0.4 : goto group-1 }\n',
    );
    t.commit();
    expect(t.diffTransaction()!.size).toBe(0);
  });

  it('keeps a shared chain while any owner uses it and removes it after the elements pointing at it', () => {
    const t = new IncrementalNftTable({ kind: 'table' });
    t.set('base', base);
    t.set('a', owner(['10.0.0.1'], 1));
    t.set('b', owner(['10.0.0.2'], 1));
    t.commit();
    t.set('a', undefined);
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe('delete element ip t dispatch { 10.0.0.1 }\n');
    t.commit();
    t.set('b', owner(['10.0.0.2'], 2));
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe(
      [
        'add chain ip t group-2',
        'add rule ip t group-2 mark set 2',
        'delete element ip t dispatch { 10.0.0.2 }',
        'add element ip t dispatch { 10.0.0.2 : goto group-2 }',
        'flush chain ip t group-1',
        'delete chain ip t group-1',
        '',
      ].join('\n'),
    );
  });

  it('an element several owners contribute keeps the first value until that owner leaves', () => {
    const t = new IncrementalNftTable({ kind: 'table' });
    const el = (value: string, comment?: string) => ({
      elements: [
        {
          kind: 'element' as const,
          container: 'dispatch',
          key: ['10.0.0.9'],
          value: [value],
          ...(comment ? { comment } : {}),
        },
      ],
    });
    t.set('base', base);
    t.set('a', el('goto group-1', 'from a'));
    t.set('b', el('goto group-2'));
    t.set('c', el('goto group-3'));
    t.commit();
    expect(t.get('a')!.elements).toEqual([
      {
        kind: 'element',
        container: 'dispatch',
        key: ['10.0.0.9'],
        value: ['goto group-1'],
        comment: 'from a',
      },
    ]);
    expect(t.get('c')!.elements![0]!.value).toEqual(['goto group-3']);
    t.set('b', undefined); // not the first: nothing visible changes
    expect(t.diffTransaction()!.size).toBe(0);
    t.set('a', undefined); // the first leaves: c's value takes over
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe(
      'delete element ip t dispatch { 10.0.0.9 }\nadd element ip t dispatch { 10.0.0.9 : goto group-3 }\n',
    );
    t.commit();
    t.set('c', undefined);
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe('delete element ip t dispatch { 10.0.0.9 }\n');
  });

  it('records nothing for what an owner gives again unchanged, only the elements that changed', () => {
    const t = new IncrementalNftTable({ kind: 'table' });
    const seen = { kind: 'set', name: 'seen', type: 'ipv4_addr', flags: ['timeout'] } as const;
    // Fresh objects every time, as a Service's rewrite hands in: equal, never the same.
    const contribution = (value2: string, comment3: string, timeout4: string): NftContribution => ({
      chains: [{ chain: { kind: 'chain', name: 'group-1' }, rules: [{ rule: 'mark set 1' }] }],
      sets: [seen],
      elements: [
        { kind: 'element', container: 'dispatch', key: ['10.0.0.1'], value: ['goto group-1'] },
        { kind: 'element', container: 'dispatch', key: ['10.0.0.2'], value: [value2] },
        { kind: 'element', container: 'seen', key: ['10.0.0.3'], comment: comment3 },
        { kind: 'element', container: 'seen', key: ['10.0.0.4'], comment: 'c', timeout: timeout4 },
        { kind: 'element', container: 'seen', key: ['10.0.0.5'] },
      ],
    });
    t.set('base', base);
    t.set('a', contribution('goto group-1', 'x', '5s'));
    t.commit();
    t.set('a', contribution('goto group-1', 'x', '5s'));
    expect(t.dirtyCount).toBe(0);
    expect(t.diffTransaction()!.size).toBe(0);
    t.set('a', contribution('drop', 'x . y', '5s'));
    t.set('a', contribution('drop', 'x . y', '6s'));
    expect(t.dirtyCount).toBe(3);
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe(
      [
        'delete element ip t dispatch { 10.0.0.2 }',
        'delete element ip t seen { 10.0.0.3, 10.0.0.4 }',
        'add element ip t dispatch { 10.0.0.2 : drop }',
        'add element ip t seen { 10.0.0.3 comment "x . y", 10.0.0.4 timeout 6s comment "c" }',
        '',
      ].join('\n'),
    );
    t.commit();
    // Elements that only moved to other positions are removed and added again: recorded, but
    // the table ends as it was, so the diff is empty.
    const moved = contribution('drop', 'x . y', '6s');
    t.set('a', { ...moved, elements: [...moved.elements!].reverse() });
    expect(t.dirtyCount).toBe(4);
    expect(t.diffTransaction()!.size).toBe(0);
    expect(t.get('a')!.elements!.map((e) => e.key[0])).toEqual([
      '10.0.0.5',
      '10.0.0.4',
      '10.0.0.3',
      '10.0.0.2',
      '10.0.0.1',
    ]);
  });

  it('keeps element containers apart beyond the 128 short container codes', () => {
    const t = new IncrementalNftTable({ kind: 'table' });
    const names = Array.from({ length: 130 }, (_, i) => `set-${i}`);
    t.set('o', {
      sets: names.map((name) => ({ kind: 'set' as const, name, type: 'ipv4_addr' })),
      elements: names.map((container, i) => ({ kind: 'element' as const, container, key: [`10.0.0.${i}`] })),
    });
    t.commit();
    t.set('o', {
      sets: names.map((name) => ({ kind: 'set' as const, name, type: 'ipv4_addr' })),
      elements: names.map((container, i) => ({
        kind: 'element' as const,
        container,
        key: [i === 0 || i === 129 ? `10.1.0.${i}` : `10.0.0.${i}`],
      })),
    });
    expect(renderScript('ip', 't', t.diffTransaction()!)).toBe(
      [
        'delete element ip t set-0 { 10.0.0.0 }',
        'delete element ip t set-129 { 10.0.0.129 }',
        'add element ip t set-0 { 10.1.0.0 }',
        'add element ip t set-129 { 10.1.0.129 }',
        '',
      ].join('\n'),
    );
    expect(t.get('o')!.elements!.at(-1)).toEqual({
      kind: 'element',
      container: 'set-129',
      key: ['10.1.0.129'],
    });
  });

  it('fullScript renders exactly what renderScript makes of fullTransaction', () => {
    const t = new IncrementalNftTable({ kind: 'table', comment: 'rules' });
    t.set('base', base);
    // Over 4096 elements in one container (split into several commands), comments with
    // characters to quote, timeouts, elements without a value, several owners of one id.
    t.set('many', {
      sets: [{ kind: 'set', name: 'seen', type: 'ipv4_addr', flags: ['timeout'] }],
      elements: [
        ...Array.from({ length: 5000 }, (_, i) => ({
          kind: 'element' as const,
          container: 'dispatch',
          key: [`10.${i >> 8}.${i & 255}.1`],
          value: [`goto group-${i % 3}`],
          ...(i % 7 === 0 ? { comment: `svc "${i}" \\ x` } : {}),
        })),
        { kind: 'element', container: 'seen', key: ['10.9.9.9'], timeout: '10s' },
        { kind: 'element', container: 'seen', key: ['10.9.9.8'], comment: 'c', timeout: '5m' },
        { kind: 'element', container: 'seen', key: ['10.9.9.7'] },
      ],
    });
    t.set('other', owner(['10.0.0.1', '10.250.0.1'], 2));
    const script = t.fullScript('ip6', 'kube-proxy');
    expect(script).toBe(renderScript('ip6', 'kube-proxy', t.fullTransaction(), { emulateDestroy: false }));
    expect(script.match(/^add element ip6 kube-proxy dispatch /gm)).toHaveLength(2);
    expect(new IncrementalNftTable().fullScript('ip', 't')).toBe(
      renderScript('ip', 't', new IncrementalNftTable().fullTransaction(), { emulateDestroy: false }),
    );
  });

  it('asks for a full replacement when a set definition changes', () => {
    const t = new IncrementalNftTable({ kind: 'table' });
    t.set('base', base);
    t.commit();
    t.set('base', { ...base, sets: [{ ...verdictMap, comment: 'changed' }] });
    expect(t.diffTransaction()).toBeUndefined();
  });

  describe('sizeLargeSets', () => {
    const hairpin = { kind: 'set', name: 'hairpin', type: 'ipv4_addr' } as const;
    const small = { kind: 'set', name: 'small', type: 'ipv4_addr' } as const;
    /** An owner with `count` hairpin elements from `first` on (10.x.y.z addresses). */
    const many = (first: number, count: number): NftContribution => ({
      elements: Array.from({ length: count }, (_, k) => {
        const i = first + k;
        return { kind: 'element', container: 'hairpin', key: [`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`] };
      }),
    });
    const declared = (t: IncrementalNftTable) =>
      Object.fromEntries(
        t
          .fullStructure()
          .operations.filter((o) => o.object.kind === 'set')
          .map((o) => [(o.object as { name: string }).name, (o.object as { size?: number }).size]),
      );
    const table = (sizeLargeSets: boolean) => {
      const t = new IncrementalNftTable({ kind: 'table' }, { sizeLargeSets });
      t.set('base', {
        sets: [hairpin, small],
        elements: [{ kind: 'element', container: 'small', key: ['10.9.9.9'] }],
      });
      t.set('a', many(0, 16_384));
      return t;
    };

    it('declares a set of 16,384 elements or more with twice its elements as size, and no other', () => {
      expect(declared(table(true))).toEqual({ hairpin: 32_768, small: undefined });
      expect(declared(table(false))).toEqual({ hairpin: undefined, small: undefined });
      const t = table(true);
      t.set('b', many(16_384, 1));
      expect(declared(t)).toEqual({ hairpin: 65_536, small: undefined });
    });

    it('diffs while a set fits the size it was declared with, then asks for a full replacement', () => {
      const t = table(true);
      t.fullStructure();
      t.commit();
      t.set('b', many(16_384, 32_768 - 16_384));
      expect(t.diffTransaction()?.size).toBe(16_384);
      t.commit();
      t.set('c', many(32_768, 1)); // element 32,769: over the kernel's limit for this set
      expect(t.diffTransaction()).toBeUndefined();
      t.set('c', undefined);
      expect(t.diffTransaction()?.size).toBe(0); // back under it
      t.set('c', many(32_768, 1));
      expect(declared(t).hairpin).toBe(131_072); // 32,769 elements: room for twice as many
      t.commit(); // the full replacement with the new size went to the kernel
      expect(t.diffTransaction()?.size).toBe(0);
      t.set('d', many(32_769, 100));
      expect(t.diffTransaction()?.size).toBe(100);
    });

    it('keeps the sizes of the last full replacement when a diff went to the kernel after another full structure', () => {
      const t = table(true);
      t.fullStructure();
      t.commit(); // hairpin declared with 32,768
      t.set('b', many(16_384, 20_000));
      expect(declared(t).hairpin).toBe(131_072); // looked at (e.g. explain), not sent
      expect(t.diffTransaction()).toBeUndefined(); // 36,384 elements > 32,768: the kernel's size still counts
    });
  });

  it('property: full then diffs end where a full build of the final contributions does', async () => {
    const step = fc.array(
      fc.record({
        owner: fc.constantFrom('a', 'b', 'c'),
        ips: fc.uniqueArray(fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'), {
          maxLength: 3,
        }),
        group: fc.integer({ min: 1, max: 3 }),
        remove: fc.boolean(),
      }),
      { maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (history) => {
        const t = new IncrementalNftTable({ kind: 'table' });
        t.set('base', base);
        const kernel = new FakeNftables('ip', 't');
        await kernel.run(t.fullTransaction());
        t.commit();
        for (const changes of history) {
          for (const c of changes) t.set(c.owner, c.remove ? undefined : owner(c.ips, c.group));
          await kernel.run(t.diffTransaction()!);
          t.commit();
          const fresh = new FakeNftables('ip', 't');
          await fresh.run(t.fullTransaction());
          expect(view(kernel.snapshot())).toEqual(view(fresh.snapshot()));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('property: filled before its first commit (ids appended, indexed once) it holds what one filled after holds', () => {
    // Before the first commit the table appends ids and indexes them when first read
    // (IdTable.append); after it, each add looks its id up. Same contributions, same table:
    // elements in the same order, shared ids with the same first value, the same owners' views.
    const step = fc.record({
      owner: fc.constantFrom('a', 'b', 'c'),
      ips: fc.uniqueArray(fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'), {
        maxLength: 4,
      }),
      group: fc.integer({ min: 1, max: 3 }),
      remove: fc.boolean(),
      read: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const filled = new IncrementalNftTable({ kind: 'table' });
        const tracked = new IncrementalNftTable({ kind: 'table' });
        tracked.commit();
        for (const t of [filled, tracked]) t.set('base', base);
        for (const c of steps)
          for (const t of [filled, tracked]) {
            t.set(c.owner, c.remove ? undefined : owner(c.ips, c.group));
            // A read in between indexes what was appended so far.
            if (c.read) t.get(c.owner);
          }
        expect(renderScript('ip', 't', filled.fullTransaction())).toBe(
          renderScript('ip', 't', tracked.fullTransaction()),
        );
        for (const o of ['a', 'b', 'c']) expect(filled.get(o)).toEqual(tracked.get(o));
      }),
      { numRuns: 300 },
    );
  });
});
