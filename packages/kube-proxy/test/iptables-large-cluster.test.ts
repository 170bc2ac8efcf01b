import { describe, expect, it } from 'vitest';
import { ProxyState, snapshotFromObjects } from '../src/index';
import {
  cidrLocalDetector,
  endpointChainName,
  explainIptablesService,
  type IptablesBackendOptions,
  IptablesRuleCache,
  isLargeClusterMode,
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  renderIptablesRuleset,
  serviceChainNames,
} from '../src/iptables/index';
import { service, slice } from './fixtures';
import { expectedTables, RestoreSim } from './iptables-restore-sim';

const OPTIONS: IptablesBackendOptions = { localDetector: cidrLocalDetector('10.244.0.0/16') };

/** Endpoint k of Service i (up to 256 Services, 1024 endpoints each). */
const epIp = (i: number, k: number) => `10.${100 + (k >> 8)}.${i}.${k & 255}`;

/** `services` Services of `per` endpoints each; Service i is default/svc-i, cluster IP 10.96.x.y. */
function objects(services: number, per: number, affinity = false) {
  const svcs = Array.from({ length: services }, (_, i) =>
    service(`svc-${i}`, {
      clusterIP: `10.96.${i >> 8}.${i & 255}`,
      ...(affinity && i === 0
        ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }
        : {}),
    }),
  );
  const slices = Array.from({ length: services }, (_, i) =>
    slice(
      `svc-${i}`,
      Array.from({ length: per }, (_, k) => ({ ip: epIp(i, k) })),
    ),
  );
  return { svcs, slices };
}

function snapshotOf(services: number, per: number, affinity = false) {
  const { svcs, slices } = objects(services, per, affinity);
  return snapshotFromObjects({ family: 'IPv4', nodeName: 'n1', services: svcs, endpointSlices: slices });
}

/** Rules of the per-endpoint kind: in KUBE-SEP-* chains, or KUBE-SVC/SVL jumps to KUBE-SEP-*. */
function endpointRules(payload: string): string[] {
  return payload
    .split('\n')
    .filter((l) => l.startsWith('-A KUBE-SEP-') || (/^-A KUBE-SV[CL]-/.test(l) && / -j KUBE-SEP-/.test(l)));
}

const otherServiceRules = (payload: string) =>
  payload
    .split('\n')
    .filter((l) => l.startsWith('-A ') && !endpointRules(l).length && / KUBE-(SERVICES|SVC-|EXT-)/.test(l));

describe('large cluster mode', () => {
  it('starts strictly above upstream’s threshold of 1000 endpoints, counted over all service ports', () => {
    expect(LARGE_CLUSTER_ENDPOINTS_THRESHOLD).toBe(1000);
    expect(isLargeClusterMode(snapshotOf(100, 10))).toBe(false); // exactly 1000
    expect(isLargeClusterMode(snapshotOf(1, 1001))).toBe(true);
    expect(isLargeClusterMode(snapshotOf(143, 7))).toBe(true); // 1001
  });

  it('below the threshold every per-endpoint rule carries the Service comment', () => {
    const payload = renderIptablesRuleset(snapshotOf(2, 3, true), OPTIONS).payload;
    const rules = endpointRules(payload);
    // Per Service: 3 SVC→SEP jumps and 2 rules in each of 3 SEP chains; svc-0 adds 3 affinity checks.
    expect(rules).toHaveLength(2 * 9 + 3);
    for (const r of rules) expect(r).toMatch(/ -m comment --comment "?default\/svc-\d:http/);
  });

  it('above it the per-endpoint rules have no comment, and every other rule keeps its own', () => {
    const snapshot = snapshotOf(101, 10, true);
    const payload = renderIptablesRuleset(snapshot, OPTIONS).payload;
    const rules = endpointRules(payload);
    expect(rules).toHaveLength(101 * 30 + 10);
    for (const r of rules) expect(r).not.toContain('--comment');
    const sep = endpointChainName('default/svc-0:http', 'TCP', `${epIp(0, 1)}:8080`);
    const svc = serviceChainNames('default/svc-0:http', 'TCP').cluster;
    expect(rules).toContain(`-A ${sep} -s ${epIp(0, 1)} -j KUBE-MARK-MASQ`);
    expect(rules).toContain(
      `-A ${sep} -m recent --name ${sep} --set -m tcp -p tcp -j DNAT --to-destination ${epIp(0, 1)}:8080`,
    );
    expect(rules).toContain(`-A ${svc} -m recent --name ${sep} --rcheck --seconds 60 --reap -j ${sep}`);
    const others = otherServiceRules(payload);
    expect(others.length).toBeGreaterThan(101);
    for (const r of others) expect(r).toContain('--comment');
    // The payload the cache renders is the same ruleset.
    const cache = new IptablesRuleCache(OPTIONS);
    const prepared = cache.prepare(snapshot, { full: true, existingNatChains: [] });
    expect(prepared.largeClusterMode).toBe(true);
    expect(endpointRules(prepared.payload).sort()).toEqual([...rules].sort());
    // The same Services with comments (one endpoint fewer each keeps them below the threshold)
    // cost well over a third more per endpoint rule.
    const small = renderIptablesRuleset(snapshotOf(100, 10), OPTIONS).payload;
    const perRule = (p: string) => endpointRules(p).join('\n').length / endpointRules(p).length;
    expect(perRule(small)).toBeGreaterThan(1.4 * perRule(payload));
  });

  it('explain still finds a Service’s endpoints through its SVC chain’s jumps', () => {
    const snapshot = snapshotOf(101, 10);
    const payload = renderIptablesRuleset(snapshot, OPTIONS).payload;
    const e = explainIptablesService(payload, 'default/svc-7');
    const svc = e.chains.find((c) => c.chain === serviceChainNames('default/svc-7:http', 'TCP').cluster)!;
    expect(svc.endpoints.map((x) => x.destination).sort()).toEqual(
      Array.from({ length: 10 }, (_, k) => `${epIp(7, k)}:8080`).sort(),
    );
    expect(svc.endpoints.at(-1)!.probability).toBe('1');
    expect(svc.endpoints[0]!.probability).toBe('0.1000000000');
  });
});

describe('IptablesRuleCache across the large cluster threshold', () => {
  it('a partial sync that crosses it re-renders every Service, both ways, and the kernel matches a full build', () => {
    const state = new ProxyState('IPv4', 'n1');
    const { svcs, slices } = objects(100, 10); // exactly 1000: not large
    for (const s of svcs) state.onService(undefined, s);
    for (const s of slices) state.onEndpointSlice(s, false);
    const cache = new IptablesRuleCache(OPTIONS, 'IPv4');
    const sim = new RestoreSim();
    const sync = (full: boolean) => {
      const snapshot = state.snapshot();
      const prepared = cache.prepare(
        snapshot,
        full ? { full: true, existingNatChains: sim.chains('nat') } : { full: false },
      );
      sim.apply(prepared.payload);
      cache.commit(prepared);
      const want = expectedTables(renderIptablesRuleset(snapshot, OPTIONS).payload);
      expect(sim.dump('nat')).toEqual(want.nat);
      expect(sim.dump('filter')).toEqual(want.filter);
      return prepared;
    };
    const first = sync(true);
    expect(first.largeClusterMode).toBe(false);
    const sepRule = (p: string) => endpointRules(p).find((l) => l.startsWith('-A KUBE-SEP-'))!;
    expect(sepRule(first.payload)).toContain('--comment');

    // One more endpoint on one Service: 1001 endpoints.
    state.onEndpointSlice(
      slice(
        'svc-3',
        Array.from({ length: 11 }, (_, k) => ({ ip: epIp(3, k) })),
      ),
      false,
    );
    const up = sync(false);
    expect(up.kind).toBe('partial');
    expect(up.largeClusterMode).toBe(true);
    expect(up.renderedServices).toBe(100);
    expect(up.writtenServiceChains).toBe(100 + 1001);
    expect(endpointRules(up.payload).some((l) => l.includes('--comment'))).toBe(false);

    // No flip: back to writing only what changed.
    state.onEndpointSlice(
      slice(
        'svc-5',
        Array.from({ length: 10 }, (_, k) => ({ ip: epIp(5, k + 1) })),
      ),
      false,
    );
    const steady = sync(false);
    expect(steady.largeClusterMode).toBe(true);
    expect(steady.renderedServices).toBe(1);

    // And back below: every Service gets its comments again.
    state.onEndpointSlice(
      slice(
        'svc-3',
        Array.from({ length: 9 }, (_, k) => ({ ip: epIp(3, k) })),
      ),
      false,
    );
    const down = sync(false);
    expect(down.largeClusterMode).toBe(false);
    expect(down.renderedServices).toBe(100);
    expect(endpointRules(down.payload).every((l) => l.includes('--comment'))).toBe(true);
  });
});
