import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { NftRuleset } from '@nodeagent/netfilter';
import { renderScript } from '@nodeagent/netfilter/nftables';
import { FakeNftables } from '@nodeagent/netfilter/testing';
import type { Wire } from '@nodeagent/primitives';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import { ProxyState } from '../src/model/proxy-snapshot';
import { buildNftablesRuleset, NftablesRuleset, nftLocalDetector } from '../src/nftables/index';
import { service, slice } from './fixtures';

type Spec = { eps: number[]; affinity: boolean; nodePort: boolean; local: boolean; externalIP: boolean }[];

const options = { localDetector: nftLocalDetector({ cidr: '10.244.0.0/16', ipv6: false }) };

function objects(spec: Spec): { services: Wire<V1Service>[]; slices: Wire<V1EndpointSlice>[] } {
  const services = spec.map((s, i) =>
    service(`s${i}`, {
      type: s.nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP: `10.96.2.${i + 1}`,
      ...(s.affinity ? { sessionAffinity: 'ClientIP' } : {}),
      ...(s.local && s.nodePort ? { externalTrafficPolicy: 'Local' } : {}),
      ...(s.externalIP ? { externalIPs: [`203.0.113.${i + 1}`] } : {}),
      ports: [{ name: 'p', port: 80, ...(s.nodePort ? { nodePort: 30100 + i } : {}) }],
    }),
  );
  const slices = spec.map((s, i) =>
    slice(
      `s${i}`,
      // Endpoint IPs shared between services exercise the shared hairpin elements.
      s.eps.map((e) => ({ ip: `10.244.${e % 3}.${e}`, node: e % 2 ? 'node-a' : 'node-b' })),
      { ports: [{ name: 'p', port: 8080 }] },
    ),
  );
  return { services, slices };
}

/** Feeds the difference between two specs to the proxy state, as informers would. */
function feed(state: ProxyState, before: Spec, after: Spec): void {
  const a = objects(before);
  const b = objects(after);
  for (let i = 0; i < Math.max(a.services.length, b.services.length); i++) {
    state.onService(a.services[i], b.services[i]);
    if (b.slices[i]) state.onEndpointSlice(b.slices[i]!, false);
    else if (a.slices[i]) state.onEndpointSlice(a.slices[i]!, true);
  }
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
          // Endpoint slots depend on history (endpoints keep their slot), so compare endpoint
          // maps as destination → set of endpoints.
          e
            .map((x) =>
              c.endsWith('-endpoints')
                ? `${x.key.slice(0, -1).join('.')}=${(x.value ?? []).join(' ')}`
                : `${x.key.join('.')}=${(x.value ?? []).join(' ')}|${x.comment ?? ''}`,
            )
            .sort(),
        ])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    ),
  };
}

const plain = (eps: number[]) => ({ eps, affinity: false, nodePort: false, local: false, externalIP: false });

describe('nftables incremental ruleset', () => {
  it('a one-endpoint change is a few element deletes/adds, and no change is an empty transaction', () => {
    const before: Spec = Array.from({ length: 50 }, () => plain([1, 2, 3]));
    const after = before.map((s, i) => (i === 7 ? { ...s, eps: [1, 2, 4] } : s));
    const state = new ProxyState('IPv4', 'node-a');
    feed(state, [], before);
    const ruleset = new NftablesRuleset('IPv4', options);
    expect(ruleset.update(state.snapshot())).toBe(50);
    expect(ruleset.diffTransaction()).toBeUndefined(); // nothing committed yet
    expect(ruleset.fullTransaction().size).toBeGreaterThan(300);
    ruleset.commit();

    feed(state, before, after);
    expect(ruleset.update(state.snapshot())).toBe(1);
    const tx = ruleset.diffTransaction()!;
    expect(tx.operations.every((op) => op.object.kind === 'element')).toBe(true);
    // The replaced endpoint's slot (0: endpoints sort as strings) gets the new one; the new
    // address also joins the hairpin set.
    expect(renderScript('ip', 'kube-proxy', tx)).toBe(
      [
        'delete element ip kube-proxy service-cluster-endpoints { 10.96.2.8 . tcp . 80 . 0 }',
        'add element ip kube-proxy endpoint-hairpin { 10.244.1.4 . 10.244.1.4 }',
        'add element ip kube-proxy service-cluster-endpoints { 10.96.2.8 . tcp . 80 . 0 : 10.244.1.4 . 8080 }',
        '',
      ].join('\n'),
    );
    ruleset.commit();
    expect(ruleset.update(state.snapshot())).toBe(0);
    expect(ruleset.diffTransaction()!.size).toBe(0);
  });

  it('a changed endpoint count moves the dispatch element to the chain for the new count', () => {
    const state = new ProxyState('IPv4', 'node-a');
    const before = [plain([1, 2, 3])];
    feed(state, [], before);
    const ruleset = new NftablesRuleset('IPv4', options);
    ruleset.update(state.snapshot());
    ruleset.commit();
    feed(state, before, [plain([1, 2])]);
    ruleset.update(state.snapshot());
    const ops = ruleset
      .diffTransaction()!
      .operations.map(
        (op) => `${op.verb} ${op.object.kind} ${op.object.kind === 'chain' ? op.object.name : ''}`,
      );
    // The new count's chain comes first (elements refer to it), the unused one goes last.
    expect(ops[0]).toBe('add chain cluster-endpoints-2');
    expect(ops.slice(-2)).toEqual(['flush chain cluster-endpoints-3', 'delete chain cluster-endpoints-3']);
  });

  // Generous timeout: the machine running the suite may be shared and busy.
  it('property: full(A) then diffs leave exactly what a full build of the last state holds', {
    timeout: 60_000,
  }, async () => {
    const specArb = fc.array(
      fc.record({
        eps: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }),
        affinity: fc.boolean(),
        nodePort: fc.boolean(),
        local: fc.boolean(),
        externalIP: fc.boolean(),
      }),
      { maxLength: 5 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 2, maxLength: 5 }), async (history) => {
        const fake = new FakeNftables('ip', 'kube-proxy');
        const state = new ProxyState('IPv4', 'node-a');
        const ruleset = new NftablesRuleset('IPv4', options);
        let prev: Spec = [];
        for (const [step, spec] of history.entries()) {
          feed(state, prev, spec);
          ruleset.update(state.snapshot());
          const diff = ruleset.diffTransaction();
          if (step === 0) expect(diff).toBeUndefined();
          await fake.run(diff ?? ruleset.fullTransaction());
          ruleset.commit();
          const o = objects(spec);
          const fresh = new FakeNftables('ip', 'kube-proxy');
          await fresh.run(
            buildNftablesRuleset(
              snapshotFromObjects({
                family: 'IPv4',
                nodeName: 'node-a',
                services: o.services,
                endpointSlices: o.slices,
              }),
              options,
            ).transaction,
          );
          expect(normalized(fake.snapshot())).toEqual(normalized(fresh.snapshot()));
          prev = spec;
        }
      }),
      { numRuns: 40 },
    );
  });

  it('endpoint changes of a multi-port Service rewrite each of its ports, also after a port goes', () => {
    const two = [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ];
    const slicePorts = [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'dns', port: 5353, protocol: 'UDP' },
    ];
    const st = new ProxyState('IPv4', 'node-a');
    const svc = service('multi', { clusterIP: '10.96.3.1', ports: two as never });
    st.onService(undefined, svc);
    st.onEndpointSlice(slice('multi', [{ ip: '10.244.3.1' }], { ports: slicePorts }), false);
    const r = new NftablesRuleset('IPv4', options);
    r.update(st.snapshot());
    r.commit();
    st.onEndpointSlice(slice('multi', [{ ip: '10.244.3.2' }], { ports: slicePorts }), false);
    expect(r.update(st.snapshot())).toBe(2);
    const both = renderScript('ip', 'kube-proxy', r.diffTransaction()!);
    expect(both).toContain('10.96.3.1 . tcp . 80 . 0 : 10.244.3.2 . 8080');
    expect(both).toContain('10.96.3.1 . udp . 53 . 0 : 10.244.3.2 . 5353');
    r.commit();
    st.onService(svc, service('multi', { clusterIP: '10.96.3.1', ports: [two[0]] as never }));
    r.update(st.snapshot());
    r.commit();
    st.onEndpointSlice(slice('multi', [{ ip: '10.244.3.3' }], { ports: slicePorts }), false);
    expect(r.update(st.snapshot())).toBe(1);
    const one = renderScript('ip', 'kube-proxy', r.diffTransaction()!);
    expect(one).toContain('10.96.3.1 . tcp . 80 . 0 : 10.244.3.3 . 8080');
    expect(one).not.toContain('udp . 53');
  });
});
