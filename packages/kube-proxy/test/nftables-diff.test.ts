import { FakeNftables, type NftRuleset } from '@nodeagent/netfilter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildNftablesRuleset, desiredStateOf, diffNftables, snapshotFromObjects } from '../src/index';
import { service, slice } from './fixtures';

type Spec = { eps: number[]; affinity: boolean; nodePort: boolean; local: boolean }[];

function build(spec: Spec) {
  const services = spec.map((s, i) =>
    service(`s${i}`, {
      type: s.nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP: `10.96.2.${i + 1}`,
      ...(s.affinity ? { sessionAffinity: 'ClientIP' } : {}),
      ...(s.local && s.nodePort ? { externalTrafficPolicy: 'Local' } : {}),
      ports: [{ name: 'p', port: 80, ...(s.nodePort ? { nodePort: 30100 + i } : {}) }],
    }),
  );
  const slices = spec.map((s, i) =>
    slice(
      `s${i}`,
      s.eps.map((e) => ({ ip: `10.244.${i}.${e}`, node: e % 2 ? 'node-a' : 'node-b' })),
      { ports: [{ name: 'p', port: 8080 }] },
    ),
  );
  const snapshot = snapshotFromObjects({
    family: 'IPv4',
    nodeName: 'node-a',
    services,
    endpointSlices: slices,
  });
  return buildNftablesRuleset(snapshot);
}

/** Order-independent view of a table (creation order and handles differ between histories). */
function normalized(rs: NftRuleset) {
  return {
    chains: rs.chains.map((c) => JSON.stringify(c)).sort(),
    rules: Object.fromEntries(
      Object.entries(rs.rules)
        .filter(([, r]) => r.length > 0)
        .map(([c, r]) => [c, r.map((x) => `${x.rule}|${x.comment ?? ''}`)])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    ),
    sets: [...rs.sets, ...rs.maps].map((s) => JSON.stringify(s)).sort(),
    elements: Object.fromEntries(
      Object.entries(rs.elements)
        .filter(([, e]) => e.length > 0)
        .map(([c, e]) => [
          c,
          e.map((x) => `${x.key.join('.')}=${(x.value ?? []).join(' ')}|${x.comment ?? ''}`).sort(),
        ])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    ),
  };
}

describe('nftables diffs', () => {
  it('a one-endpoint change is a small transaction', () => {
    const before: Spec = Array.from({ length: 50 }, () => ({
      eps: [1, 2, 3],
      affinity: false,
      nodePort: false,
      local: false,
    }));
    const after = before.map((s, i) => (i === 7 ? { ...s, eps: [1, 2, 4] } : s));
    const a = build(before);
    const b = build(after);
    const tx = diffNftables(
      desiredStateOf(a.transaction.operations),
      desiredStateOf(b.transaction.operations),
    )!;
    expect(tx.size).toBeGreaterThan(0);
    expect(tx.size).toBeLessThan(12);
    expect(a.transaction.size).toBeGreaterThan(500);
    const same = diffNftables(
      desiredStateOf(b.transaction.operations),
      desiredStateOf(b.transaction.operations),
    )!;
    expect(same.size).toBe(0);
  });

  it('property: full(A) then diff(A→B) leaves exactly what full(B) builds, and every step applies', async () => {
    const specArb = fc.array(
      fc.record({
        eps: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }),
        affinity: fc.boolean(),
        nodePort: fc.boolean(),
        local: fc.boolean(),
      }),
      { maxLength: 5 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 2, maxLength: 4 }), async (history) => {
        const fake = new FakeNftables('ip', 'kube-proxy');
        let prev = build(history[0]!);
        await fake.run(prev.transaction);
        for (const spec of history.slice(1)) {
          const next = build(spec);
          const diff = diffNftables(
            desiredStateOf(prev.transaction.operations),
            desiredStateOf(next.transaction.operations),
          );
          await fake.run(diff ?? next.transaction);
          const fresh = new FakeNftables('ip', 'kube-proxy');
          await fresh.run(next.transaction);
          expect(normalized(fake.snapshot())).toEqual(normalized(fresh.snapshot()));
          prev = next;
        }
      }),
      { numRuns: 60 },
    );
  });
});
