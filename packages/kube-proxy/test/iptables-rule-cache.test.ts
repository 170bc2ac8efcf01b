import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProxyState, snapshotFromObjects } from '../src/index';
import { CHAIN_NAME_CACHE_SLACK, chainNameCacheSizes } from '../src/iptables/chain-names';
import {
  cidrLocalDetector,
  type IptablesBackendOptions,
  IptablesRuleCache,
  renderIptablesRuleset,
  serviceChainNames,
} from '../src/iptables/index';
import { service, slice } from './fixtures';
import { expectedTables, RestoreSim } from './iptables-restore-sim';

const OPTIONS: IptablesBackendOptions = { localDetector: cidrLocalDetector('10.244.0.0/16') };
const isOurs = (c: string) => c.startsWith('KUBE-');

/** A ProxyState plus the cache and a simulated kernel, synced like the proxier does. */
function harness(options = OPTIONS) {
  const state = new ProxyState('IPv4', 'node-a');
  const cache = new IptablesRuleCache(options, 'IPv4');
  const sim = new RestoreSim();
  // Someone else's chains, which no sync may touch.
  sim.apply('*nat\n:DOCKER - [0:0]\n-A DOCKER -j RETURN\nCOMMIT\n*filter\n:CNI-FW - [0:0]\nCOMMIT\n');
  const sync = (full: boolean) => {
    const snapshot = state.snapshot();
    const prepared = cache.prepare(
      snapshot,
      full ? { full: true, existingNatChains: sim.chains('nat') } : { full: false },
    );
    sim.apply(prepared.payload);
    cache.commit(prepared);
    const built = renderIptablesRuleset(snapshot, options);
    return { prepared, built, snapshot };
  };
  const expectKernelMatchesBuild = (built: ReturnType<typeof renderIptablesRuleset>) => {
    const want = expectedTables(built.payload);
    expect(sim.dump('nat', isOurs)).toEqual(want.nat);
    expect(sim.dump('filter', isOurs)).toEqual(want.filter);
    expect(sim.dump('nat', (c) => !isOurs(c))).toEqual({ DOCKER: ['-A DOCKER -j RETURN'] });
    expect(sim.dump('filter', (c) => !isOurs(c))).toEqual({ 'CNI-FW': [] });
  };
  return { state, cache, sim, sync, expectKernelMatchesBuild };
}

const web = service('web');
const db = service('db', { clusterIP: '10.96.0.11', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
const webSlice = (...ips: string[]) =>
  slice(
    'web',
    ips.map((ip) => ({ ip, ready: true })),
  );
const dbSlice = slice('db', [{ ip: '10.244.2.1' }], { ports: [{ name: 'pg', port: 5432 }] });
const webChains = serviceChainNames('default/web:http', 'TCP');

describe('IptablesRuleCache', () => {
  it('a full sync writes exactly the rules a fresh render of the snapshot has', () => {
    const h = harness();
    h.state.onService(undefined, web);
    h.state.onService(undefined, db);
    h.state.onEndpointSlice(webSlice('10.244.1.1', '10.244.1.2'), false);
    h.state.onEndpointSlice(dbSlice, false);
    const { prepared, built } = h.sync(true);
    expect(prepared.kind).toBe('full');
    expect(prepared.renderedServices).toBe(2);
    expect(prepared.ruleCounts).toEqual(built.ruleCounts);
    expect(prepared.noLocalEndpoints).toEqual(built.noLocalEndpoints);
    h.expectKernelMatchesBuild(built);
  });

  it('an endpoint change rewrites only that Service’s chains and deletes its stale endpoint chain', () => {
    const h = harness();
    h.state.onService(undefined, web);
    h.state.onService(undefined, db);
    h.state.onEndpointSlice(webSlice('10.244.1.1', '10.244.1.2'), false);
    h.state.onEndpointSlice(dbSlice, false);
    h.sync(true);
    h.state.onEndpointSlice(webSlice('10.244.1.1', '10.244.1.3'), false);
    const { prepared, built } = h.sync(false);
    expect(prepared.renderedServices).toBe(1);
    expect(prepared.rewrittenTopChains).toEqual([]);
    expect(prepared.payload).toContain(`:${webChains.cluster} - [0:0]`);
    expect(prepared.payload).not.toContain(serviceChainNames('default/db:pg', 'TCP').cluster);
    expect(prepared.deletedChains).toHaveLength(1);
    expect(prepared.payload).toContain(`-X ${prepared.deletedChains[0]}`);
    expect(prepared.ruleCounts).toEqual(built.ruleCounts);
    h.expectKernelMatchesBuild(built);
  });

  it('writes nothing when nothing changed, and rewrites KUBE-SERVICES when a Service goes away', () => {
    const h = harness();
    h.state.onService(undefined, web);
    h.state.onService(undefined, db);
    h.state.onEndpointSlice(webSlice('10.244.1.1'), false);
    h.state.onEndpointSlice(dbSlice, false);
    h.sync(true);
    expect(h.sync(false).prepared.payload).toBe('');
    h.state.onService(web, undefined);
    h.state.onEndpointSlice(webSlice('10.244.1.1'), true);
    const { prepared, built } = h.sync(false);
    expect(prepared.rewrittenTopChains).toEqual(['nat KUBE-SERVICES']);
    expect(prepared.deletedChains).toContain(webChains.cluster);
    h.expectKernelMatchesBuild(built);
    expect(h.sim.chains('nat').has(webChains.cluster)).toBe(false);
  });

  it('a Service losing its endpoints moves its rule from nat to a filter REJECT', () => {
    const h = harness();
    h.state.onService(undefined, web);
    h.state.onEndpointSlice(webSlice('10.244.1.1'), false);
    h.sync(true);
    h.state.onEndpointSlice(webSlice(), false);
    const { prepared, built } = h.sync(false);
    expect(prepared.rewrittenTopChains).toEqual(['filter KUBE-SERVICES', 'nat KUBE-SERVICES']);
    expect(prepared.payload).toContain('default/web:http has no endpoints');
    h.expectKernelMatchesBuild(built);
  });

  it('a full sync deletes stale chains it finds in the kernel but never wrote', () => {
    const h = harness();
    h.sim.apply('*nat\n:KUBE-SEP-LEFTOVERLEFTOVER - [0:0]\n:KUBE-SVC-LEFTOVERLEFTOVER - [0:0]\nCOMMIT\n');
    h.state.onService(undefined, web);
    h.state.onEndpointSlice(webSlice('10.244.1.1'), false);
    const { prepared, built } = h.sync(true);
    expect(prepared.deletedChains).toEqual(['KUBE-SEP-LEFTOVERLEFTOVER', 'KUBE-SVC-LEFTOVERLEFTOVER']);
    h.expectKernelMatchesBuild(built);
  });

  it('IPv6: a full sync writes what a fresh render has (no ::1 NodePorts, masqueradeBit honoured)', () => {
    const options: IptablesBackendOptions = { masqueradeBit: 5, localhostNodePorts: false };
    const snapshot = snapshotFromObjects({
      family: 'IPv6',
      nodeName: 'node-a',
      services: [
        service('v6', {
          clusterIP: 'fd00:10:96::20',
          clusterIPs: ['fd00:10:96::20'],
          type: 'NodePort',
          ports: [{ name: 'http', port: 80, nodePort: 30081 }],
        }),
      ],
      endpointSlices: [slice('v6', [{ ip: 'fd00:10:244::5', node: 'node-b' }], { addressType: 'IPv6' })],
    });
    const cache = new IptablesRuleCache(options, 'IPv6');
    const prepared = cache.prepare(snapshot, { full: true, existingNatChains: [] });
    const sim = new RestoreSim();
    sim.apply(prepared.payload);
    const want = expectedTables(renderIptablesRuleset(snapshot, options).payload);
    expect(sim.dump('nat')).toEqual(want.nat);
    expect(sim.dump('filter')).toEqual(want.filter);
    expect(prepared.payload).toContain('! -d ::1/128');
    expect(prepared.payload).toContain('0x00000020');
  });

  it('property: after any sequence of changes and syncs the kernel holds what a fresh full render says', () => {
    const svcArb = fc.record({
      present: fc.boolean(),
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
      etpLocal: fc.boolean(),
      affinity: fc.boolean(),
      ranges: fc.boolean(),
      endpoints: fc.array(fc.record({ n: fc.integer({ min: 1, max: 6 }), local: fc.boolean() }), {
        maxLength: 3,
      }),
    });
    const stepArb = fc.record({
      specs: fc.array(svcArb, { minLength: 3, maxLength: 3 }),
      full: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 6 }), (steps) => {
        const h = harness();
        const current = new Map<number, { svc: Wire<V1Service>; slice: Wire<V1EndpointSlice> }>();
        steps.forEach((step, k) => {
          step.specs.forEach((s, i) => {
            const prev = current.get(i);
            if (!s.present) {
              if (prev) {
                h.state.onService(prev.svc, undefined);
                h.state.onEndpointSlice(prev.slice, true);
                current.delete(i);
              }
              return;
            }
            const svc = service(
              `s${i}`,
              {
                type: s.type,
                clusterIP: `10.96.1.${i + 1}`,
                ...(s.type !== 'ClusterIP' && s.etpLocal ? { externalTrafficPolicy: 'Local' } : {}),
                ...(s.affinity ? { sessionAffinity: 'ClientIP' } : {}),
                ...(s.ranges ? { loadBalancerSourceRanges: ['192.168.0.0/16'] } : {}),
                ports: [
                  {
                    name: 'p',
                    port: 80,
                    protocol: 'TCP',
                    ...(s.type !== 'ClusterIP' ? { nodePort: 30000 + i } : {}),
                  },
                ],
              },
              s.type === 'LoadBalancer'
                ? { loadBalancer: { ingress: [{ ip: `203.0.113.${i + 1}` }] } }
                : undefined,
            );
            const sl = slice(
              `s${i}`,
              [...new Set(s.endpoints.map((e) => e.n))].map((n) => ({
                ip: `10.244.${i}.${n}`,
                node: s.endpoints.find((e) => e.n === n)!.local ? 'node-a' : 'node-b',
                ready: true,
              })),
              { ports: [{ name: 'p', port: 8080, protocol: 'TCP' }] },
            );
            h.state.onService(prev?.svc, svc);
            h.state.onEndpointSlice(sl, false);
            current.set(i, { svc, slice: sl });
          });
          const { prepared, built } = h.sync(k === 0 || step.full);
          expect(prepared.ruleCounts).toEqual(built.ruleCounts);
          h.expectKernelMatchesBuild(built);
        });
      }),
      { numRuns: 120 },
    );
  });

  it('holds the names of the live chains only once a full sync has seen endpoints come and go', () => {
    const h = harness();
    h.state.onService(undefined, web);
    h.sync(true);
    // 6,000 pod IPs over time, never reused, five at a time (partial syncs).
    for (let round = 0; round < 1200; round++) {
      const ips = Array.from(
        { length: 5 },
        (_, i) => `10.${100 + Math.floor(round / 200)}.${round % 200}.${i + 1}`,
      );
      h.state.onEndpointSlice(webSlice(...ips), false);
      h.sync(false);
    }
    expect(chainNameCacheSizes().endpoints).toBeGreaterThan(1000);
    h.sync(true);
    // One live endpoint chain: at most twice that plus the slack, not the 6,000 ever seen.
    expect(chainNameCacheSizes().endpoints).toBeLessThanOrEqual(2 * 5 + CHAIN_NAME_CACHE_SLACK);
    // The live chains are named again as before, the kernel as a fresh render has it.
    h.state.onEndpointSlice(webSlice('10.244.9.1'), false);
    const { built } = h.sync(true);
    h.expectKernelMatchesBuild(built);
  });
});
