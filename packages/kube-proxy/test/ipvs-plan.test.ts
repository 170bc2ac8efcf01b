import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ProxySnapshot, ProxyState, snapshotFromObjects } from '../src/index';
import { cidrLocalDetector, renderRestorePayload } from '../src/iptables/index';
import { formatIpvsPlan, type IpvsPlan, IpvsPlanner, planIpvs } from '../src/ipvs/index';
import { type EndpointSpec, service, slice } from './fixtures';

type Svc = ReturnType<typeof service>;
type Slice = ReturnType<typeof slice>;

const snap = (services: Svc[], slices: Slice[], family: 'IPv4' | 'IPv6' = 'IPv4') =>
  snapshotFromObjects({ family, nodeName: 'node-a', services, endpointSlices: slices });

const rs = (plan: IpvsPlan, key: string) =>
  [...(plan.virtualServers.get(key)?.realServers.keys() ?? [])].sort();
const entries = (plan: IpvsPlan, set: string) => [...(plan.ipsets.get(set)?.entries ?? [])].sort();
const natRules = (plan: IpvsPlan) => plan.iptables.nat.rules.map((r) => r.join(' '));
const filterRules = (plan: IpvsPlan) => plan.iptables.filter.rules.map((r) => r.join(' '));

describe('planIpvs', () => {
  it('plans a ClusterIP virtual server over the ready endpoints, bound to kube-ipvs0', () => {
    const plan = planIpvs(
      snap(
        [service('web')],
        [slice('web', [{ ip: '10.244.1.1' }, { ip: '10.244.2.1' }, { ip: '10.244.3.1', ready: false }])],
      ),
    );
    expect([...plan.virtualServers.keys()]).toEqual(['TCP/10.96.0.10:80']);
    const vs = plan.virtualServers.get('TCP/10.96.0.10:80')!;
    expect(vs).toMatchObject({ protocol: 'tcp', scheduler: 'rr', persistent: false, timeout: 0 });
    expect(rs(plan, 'TCP/10.96.0.10:80')).toEqual(['10.244.1.1:8080', '10.244.2.1:8080']);
    expect([...plan.boundAddresses]).toEqual(['10.96.0.10']);
    expect(entries(plan, 'KUBE-CLUSTER-IP')).toEqual(['10.96.0.10,tcp:80']);
    expect(entries(plan, 'KUBE-IPVS-IPS')).toEqual(['10.96.0.10']);
  });

  it('uses serving+terminating endpoints only when none is ready (upstream fallback)', () => {
    const eps: EndpointSpec[] = [
      { ip: '10.244.1.1', ready: false, serving: true, terminating: true },
      { ip: '10.244.1.2', ready: false, serving: false, terminating: true },
    ];
    const plan = planIpvs(snap([service('web')], [slice('web', eps)]));
    expect(rs(plan, 'TCP/10.96.0.10:80')).toEqual(['10.244.1.1:8080']);
    const withReady = planIpvs(snap([service('web')], [slice('web', [...eps, { ip: '10.244.9.9' }])]));
    expect(rs(withReady, 'TCP/10.96.0.10:80')).toEqual(['10.244.9.9:8080']);
  });

  it('takes the scheduler from ipvs.scheduler and makes ClientIP affinity a persistent service', () => {
    const s = snap(
      [
        service('sticky', { sessionAffinity: 'ClientIP' }),
        service('short', {
          clusterIP: '10.96.0.11',
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        }),
      ],
      [],
    );
    const plan = planIpvs(s, { scheduler: 'lc' });
    expect(plan.virtualServers.get('TCP/10.96.0.10:80')).toMatchObject({
      scheduler: 'lc',
      persistent: true,
      timeout: 10800,
    });
    expect(plan.virtualServers.get('TCP/10.96.0.11:80')).toMatchObject({ persistent: true, timeout: 60 });
  });

  it('plans NodePorts on every node address, with Local policy using only local endpoints', () => {
    const svc = service('np', {
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
    });
    const plan = planIpvs(
      snap(
        [svc],
        [
          slice('np', [
            { ip: '10.244.1.1', node: 'node-a' },
            { ip: '10.244.2.1', node: 'node-b' },
          ]),
        ],
      ),
      { nodePortIPs: ['192.168.0.10', '192.168.1.10', 'fd00::1'] },
    );
    expect([...plan.virtualServers.keys()].sort()).toEqual([
      'TCP/10.96.0.10:80',
      'TCP/192.168.0.10:30080',
      'TCP/192.168.1.10:30080',
    ]);
    expect(rs(plan, 'TCP/10.96.0.10:80')).toEqual(['10.244.1.1:8080', '10.244.2.1:8080']);
    expect(rs(plan, 'TCP/192.168.0.10:30080')).toEqual(['10.244.1.1:8080']);
    // Node addresses are already local: never bound to kube-ipvs0.
    expect([...plan.boundAddresses]).toEqual(['10.96.0.10']);
    expect(entries(plan, 'KUBE-NODE-PORT-TCP')).toEqual(['30080']);
    expect(entries(plan, 'KUBE-NODE-PORT-LOCAL-TCP')).toEqual(['30080']);
    expect(entries(plan, 'KUBE-LOOP-BACK')).toEqual(['10.244.1.1,tcp:8080,10.244.1.1']);
    const nat = natRules(plan);
    const local = nat.findIndex((r) => r.includes('KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN'));
    const masq = nat.findIndex((r) => r.includes('KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ'));
    expect(local).toBeGreaterThanOrEqual(0);
    expect(masq).toBeGreaterThan(local);
    expect(plan.noLocalEndpoints).toEqual({ internal: 0, external: 0 });
  });

  it('puts SCTP NodePorts in the hash:ip,port set per node address, UDP in the UDP bitmap', () => {
    const plan = planIpvs(
      snap(
        [
          service('s', {
            type: 'NodePort',
            ports: [{ name: 'a', port: 9, nodePort: 30009, protocol: 'SCTP' }],
          }),
          service('u', {
            type: 'NodePort',
            clusterIP: '10.96.0.11',
            ports: [{ name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' }],
          }),
        ],
        [],
      ),
      { nodePortIPs: ['192.168.0.10'] },
    );
    expect(entries(plan, 'KUBE-NODE-PORT-SCTP-HASH')).toEqual(['192.168.0.10,sctp:30009']);
    expect(entries(plan, 'KUBE-NODE-PORT-UDP')).toEqual(['30053']);
    expect(plan.virtualServers.has('SCTP/192.168.0.10:30009')).toBe(true);
    expect(plan.virtualServers.has('UDP/10.96.0.11:53')).toBe(true);
    expect(
      natRules(plan).some((r) => r.includes('-p sctp') && r.includes('KUBE-NODE-PORT-SCTP-HASH dst,dst')),
    ).toBe(true);
  });

  it('binds external and LoadBalancer IPs and fills the LB firewall sets', () => {
    const svc = service(
      'lb',
      {
        type: 'LoadBalancer',
        externalIPs: ['203.0.113.5'],
        loadBalancerSourceRanges: ['198.51.100.0/24', '192.168.0.0/16'],
        ports: [{ name: 'http', port: 80, nodePort: 30100, protocol: 'TCP' }],
      },
      { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } },
    );
    const plan = planIpvs(snap([svc], [slice('lb', [{ ip: '10.244.1.1' }])]), {
      nodePortIPs: [],
      nodeIPs: ['192.168.0.10'],
    });
    expect([...plan.boundAddresses].sort()).toEqual(['10.96.0.10', '203.0.113.5', '203.0.113.9']);
    expect(entries(plan, 'KUBE-EXTERNAL-IP')).toEqual(['203.0.113.5,tcp:80']);
    expect(entries(plan, 'KUBE-LOAD-BALANCER')).toEqual(['203.0.113.9,tcp:80']);
    expect(entries(plan, 'KUBE-LOAD-BALANCER-FW')).toEqual(['203.0.113.9,tcp:80']);
    expect(entries(plan, 'KUBE-LOAD-BALANCER-SOURCE-CIDR')).toEqual([
      '203.0.113.9,tcp:80,192.168.0.0/16',
      '203.0.113.9,tcp:80,198.51.100.0/24',
    ]);
    // A source range holds the node's IP, so the node may reach the LB IP (from that IP).
    expect(entries(plan, 'KUBE-LOAD-BALANCER-SOURCE-IP')).toEqual(['203.0.113.9,tcp:80,203.0.113.9']);
    expect(rs(plan, 'TCP/203.0.113.9:80')).toEqual(['10.244.1.1:8080']);
    expect(filterRules(plan)).toContain(
      '-A KUBE-PROXY-FIREWALL -m comment --comment Kubernetes service load balancer ip + port for load balancer with sourceRange -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL',
    );
    expect(natRules(plan)).toContain(
      '-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT',
    );
  });

  it('keeps the node out of an LB IP whose source ranges exclude it (KUBE-IPVS-OUT-FILTER)', () => {
    const lb = (name: string, clusterIP: string, ingress: string, protocol = 'TCP') =>
      service(
        name,
        {
          type: 'LoadBalancer',
          clusterIP,
          loadBalancerSourceRanges: ['198.51.100.0/24'],
          ports: [{ name: 'http', port: 443, nodePort: 30200, protocol }],
        },
        { loadBalancer: { ingress: [{ ip: ingress }] } },
      );
    const services = [lb('b', '10.96.0.12', '203.0.113.20', 'UDP'), lb('a', '10.96.0.11', '203.0.113.10')];
    const excluded = planIpvs(snap(services, []), { nodePortIPs: [], nodeIPs: ['192.168.0.10'] });
    expect(excluded.lbNoNodeAccess).toEqual([
      { ip: '203.0.113.10', protocol: 'tcp', port: 443 },
      { ip: '203.0.113.20', protocol: 'udp', port: 443 },
    ]);
    const out = filterRules(excluded).filter((r) => r.startsWith('-A KUBE-IPVS-OUT-FILTER'));
    expect(out).toEqual([
      '-A KUBE-IPVS-OUT-FILTER -s 203.0.113.10 -m ipvs --vaddr 203.0.113.10 --vproto tcp --vport 443 -j DROP',
      '-A KUBE-IPVS-OUT-FILTER -s 203.0.113.20 -m ipvs --vaddr 203.0.113.20 --vproto udp --vport 443 -j DROP',
    ]);
    expect(entries(excluded, 'KUBE-LOAD-BALANCER-SOURCE-IP')).toEqual([]);
    // The node's IP inside a range: the node may connect, so no drop rule.
    const allowed = planIpvs(snap(services, []), { nodePortIPs: [], nodeIPs: ['198.51.100.7'] });
    expect(allowed.lbNoNodeAccess).toEqual([]);
    expect(filterRules(allowed).some((r) => r.startsWith('-A KUBE-IPVS-OUT-FILTER'))).toBe(false);
    // The chain exists either way (the OUTPUT jump targets it).
    expect(renderRestorePayload(allowed.iptables)).toContain(':KUBE-IPVS-OUT-FILTER - [0:0]');
    // No source ranges: nothing to keep the node out of.
    const open = planIpvs(
      snap(
        [
          service(
            'c',
            { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, nodePort: 30201, protocol: 'TCP' }] },
            { loadBalancer: { ingress: [{ ip: '203.0.113.30' }] } },
          ),
        ],
        [],
      ),
      { nodePortIPs: [] },
    );
    expect(open.lbNoNodeAccess).toEqual([]);
  });

  it('names IPv6 sets KUBE-6-* and writes canonical IPv6 addresses', () => {
    const svc = service('v6', { clusterIP: 'fd00:0:0::a', clusterIPs: ['fd00::a'], ipFamilies: ['IPv6'] });
    const plan = planIpvs(
      snap([svc], [slice('v6', [{ ip: 'fd00:244::0001' }], { addressType: 'IPv6' })], 'IPv6'),
    );
    expect([...plan.virtualServers.keys()]).toEqual(['TCP/[fd00::a]:80']);
    expect(rs(plan, 'TCP/[fd00::a]:80')).toEqual(['[fd00:244::1]:8080']);
    expect(entries(plan, 'KUBE-6-CLUSTER-IP')).toEqual(['fd00::a,tcp:80']);
    expect(plan.ipsets.has('KUBE-CLUSTER-IP')).toBe(false);
    // 32 characters: truncated to ipset's 31, as upstream does.
    expect(plan.ipsets.has('KUBE-6-LOAD-BALANCER-SOURCE-CID')).toBe(true);
    expect(natRules(plan)[0]).toBe('-A KUBE-SERVICES -s ::1/128 -j RETURN');
  });

  it('masquerades off-cluster ClusterIP traffic with a local detector, VIP-sourced traffic without', () => {
    const s = snap([service('web')], []);
    const withDetector = natRules(planIpvs(s, { localDetector: cidrLocalDetector('10.244.0.0/16') }));
    expect(
      withDetector.some((r) => r.endsWith('KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ')),
    ).toBe(true);
    const without = natRules(planIpvs(s));
    expect(without.some((r) => r.endsWith('KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ'))).toBe(true);
    const all = natRules(planIpvs(s, { masqueradeAll: true }));
    expect(all.some((r) => r.endsWith('KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ'))).toBe(true);
  });

  it('renders an iptables-restore payload with upstream chains and the masquerade mark', () => {
    const payload = renderRestorePayload(planIpvs(snap([service('web')], [])).iptables);
    for (const c of [
      'KUBE-SERVICES',
      'KUBE-POSTROUTING',
      'KUBE-NODE-PORT',
      'KUBE-LOAD-BALANCER',
      'KUBE-MARK-MASQ',
    ])
      expect(payload).toContain(`:${c} - [0:0]`);
    expect(payload).toContain(':KUBE-IPVS-FILTER - [0:0]');
    expect(payload).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x004000');
    expect(payload).toContain(
      '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT',
    );
    // Empty sets add no jump rules.
    expect(payload).not.toContain('KUBE-NODE-PORT-TCP');
  });

  it('counts Services whose Local policy has no local endpoint', () => {
    const plan = planIpvs(
      snap(
        [
          service('itp', { internalTrafficPolicy: 'Local' }),
          service('etp', {
            clusterIP: '10.96.0.11',
            type: 'NodePort',
            externalTrafficPolicy: 'Local',
            ports: [{ name: 'http', port: 80, nodePort: 30001 }],
          }),
        ],
        [
          slice('itp', [{ ip: '10.244.2.1', node: 'node-b' }]),
          slice('etp', [{ ip: '10.244.2.2', node: 'node-b' }]),
        ],
      ),
      { nodePortIPs: ['192.168.0.10'] },
    );
    expect(plan.noLocalEndpoints).toEqual({ internal: 1, external: 1 });
    expect(rs(plan, 'TCP/10.96.0.10:80')).toEqual([]);
    expect(rs(plan, 'TCP/192.168.0.10:30001')).toEqual([]);
    expect(rs(plan, 'TCP/10.96.0.11:80')).toEqual(['10.244.2.2:8080']);
  });

  it('reuses the planned virtual servers of unchanged Services across snapshots', () => {
    const planner = new IpvsPlanner();
    const state = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'node-a',
      services: [service('web'), service('db', { clusterIP: '10.96.0.11' })],
      endpointSlices: [slice('web', [{ ip: '10.244.1.1' }]), slice('db', [{ ip: '10.244.1.2' }])],
    });
    const first = planner.plan(state);
    // Same snapshot objects: every fragment is reused.
    const again = planner.plan(state);
    expect(again.virtualServers.get('TCP/10.96.0.10:80')).toBe(first.virtualServers.get('TCP/10.96.0.10:80'));
    // Different node addresses change NodePort virtual servers: the memo is dropped.
    const moved = planner.plan(state, { nodePortIPs: ['192.168.9.9'] });
    expect(moved.virtualServers.get('TCP/10.96.0.10:80')).not.toBe(
      first.virtualServers.get('TCP/10.96.0.10:80'),
    );
    expect(moved.virtualServers.get('TCP/10.96.0.10:80')).toEqual(
      first.virtualServers.get('TCP/10.96.0.10:80'),
    );
  });

  it('formats a plan for render', () => {
    const text = formatIpvsPlan(
      planIpvs(
        snap([service('web', { sessionAffinity: 'ClientIP' })], [slice('web', [{ ip: '10.244.1.1' }])]),
      ),
    );
    expect(text).toContain('TCP  10.96.0.10:80 rr persistent 10800  # default/web:http');
    expect(text).toContain('  -> 10.244.1.1:8080  Masq  1');
    expect(text).toContain('add KUBE-CLUSTER-IP 10.96.0.10,tcp:80');
  });

  it('holds its invariants for arbitrary Services and endpoints (property)', () => {
    const arb = fc.array(
      fc.record({
        type: fc.constantFrom('ClusterIP', 'NodePort'),
        protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
        etpLocal: fc.boolean(),
        eps: fc.array(
          fc.record({
            host: fc.integer({ min: 1, max: 20 }),
            ready: fc.boolean(),
            terminating: fc.boolean(),
            local: fc.boolean(),
          }),
          { maxLength: 5 },
        ),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(arb, (defs) => {
        const services = defs.map((d, i) =>
          service(`s${i}`, {
            type: d.type,
            clusterIP: `10.96.1.${i + 1}`,
            ...(d.type === 'NodePort' ? { externalTrafficPolicy: d.etpLocal ? 'Local' : 'Cluster' } : {}),
            ports: [
              {
                name: 'p',
                port: 80,
                protocol: d.protocol,
                ...(d.type === 'NodePort' ? { nodePort: 30000 + i } : {}),
              },
            ],
          }),
        );
        const slices = defs.map((d, i) =>
          slice(
            `s${i}`,
            d.eps.map((e) => ({
              ip: `10.244.${i}.${e.host}`,
              ready: e.ready && !e.terminating,
              serving: e.ready,
              terminating: e.terminating,
              node: e.local ? 'node-a' : 'node-b',
            })),
            { ports: [{ name: 'p', port: 8080, protocol: d.protocol }] },
          ),
        );
        const plan = planIpvs(snap(services, slices), { nodePortIPs: ['192.168.0.10'] });
        const eps = new Map(
          slices.map((s, i) => [i, new Set(s.endpoints.map((e) => `${e.addresses[0]}:8080`))]),
        );
        for (const [i, d] of defs.entries()) {
          const cip = plan.virtualServers.get(`${d.protocol}/10.96.1.${i + 1}:80`);
          if (!cip) return false;
          // Real servers come from the Service's own endpoints, never anyone else's.
          for (const k of cip.realServers.keys()) if (!eps.get(i)!.has(k)) return false;
          if (d.type === 'NodePort' && !plan.virtualServers.has(`${d.protocol}/192.168.0.10:${30000 + i}`))
            return false;
        }
        const ipvsIps = plan.ipsets.get('KUBE-IPVS-IPS')!.entries;
        for (const a of plan.boundAddresses) if (!ipvsIps.has(a)) return false;
        return plan.boundAddresses.size === defs.length;
      }),
      { numRuns: 60 },
    );
  });

  it('plans incrementally exactly what a fresh plan of the same snapshot holds (property)', () => {
    // Few addresses and NodePorts, so Services also collide (duplicate virtual servers) and
    // share kube-ipvs0 addresses: the paths where withdrawing a fragment must not drop another's.
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('service' as const),
        id: fc.integer({ min: 0, max: 5 }),
        ip: fc.integer({ min: 1, max: 4 }),
        ports: fc.integer({ min: 1, max: 2 }),
        nodePort: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        lb: fc.boolean(),
        local: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('deleteService' as const), id: fc.integer({ min: 0, max: 5 }) }),
      fc.record({
        kind: fc.constant('slice' as const),
        id: fc.integer({ min: 0, max: 5 }),
        hosts: fc.array(fc.record({ host: fc.integer({ min: 1, max: 6 }), local: fc.boolean() }), {
          maxLength: 3,
        }),
      }),
      fc.record({ kind: fc.constant('deleteSlice' as const), id: fc.integer({ min: 0, max: 5 }) }),
    );
    const comparable = (p: IpvsPlan) => ({
      virtualServers: new Map(
        [...p.virtualServers].map(([k, v]) => [k, { ...v, realServers: [...v.realServers] }]),
      ),
      bound: [...p.boundAddresses].sort(),
      ipsets: [...p.ipsets.values()].map((x) => [x.name, [...x.entries].sort()]),
      iptables: renderRestorePayload(p.iptables),
      noLocal: p.noLocalEndpoints,
      lbNoNodeAccess: p.lbNoNodeAccess,
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const state = new ProxyState('IPv4', 'node-a');
        const planner = new IpvsPlanner({ nodePortIPs: ['192.168.0.10'], nodeIPs: ['192.168.0.10'] });
        const services = new Map<number, Svc>();
        const slices = new Map<number, Slice>();
        let previous: IpvsPlan['virtualServers'] | undefined;
        for (const o of ops) {
          if (o.kind === 'service') {
            const svc = service(
              `s${o.id}`,
              {
                type: o.lb ? 'LoadBalancer' : o.nodePort !== undefined ? 'NodePort' : 'ClusterIP',
                clusterIP: `10.96.0.${o.ip}`,
                externalTrafficPolicy: o.local ? 'Local' : 'Cluster',
                ...(o.lb ? { loadBalancerSourceRanges: ['198.51.100.0/24'] } : {}),
                ports: Array.from({ length: o.ports }, (_, i) => ({
                  name: `p${i}`,
                  port: 80 + i,
                  protocol: 'TCP',
                  ...(o.nodePort !== undefined || o.lb ? { nodePort: 30000 + (o.nodePort ?? 0) + i } : {}),
                })),
              },
              o.lb ? { loadBalancer: { ingress: [{ ip: `203.0.113.${o.ip}` }] } } : undefined,
            );
            state.onService(services.get(o.id), svc);
            services.set(o.id, svc);
          } else if (o.kind === 'deleteService') {
            if (!services.has(o.id)) continue;
            state.onService(services.get(o.id), undefined);
            services.delete(o.id);
          } else if (o.kind === 'slice') {
            const sl = slice(
              `s${o.id}`,
              o.hosts.map((h) => ({ ip: `10.244.${o.id}.${h.host}`, node: h.local ? 'node-a' : 'node-b' })),
              {
                ports: [
                  { name: 'p0', port: 8080, protocol: 'TCP' },
                  { name: 'p1', port: 8081, protocol: 'TCP' },
                ],
              },
            );
            state.onEndpointSlice(sl, false);
            slices.set(o.id, sl);
          } else {
            const sl = slices.get(o.id);
            if (!sl) continue;
            state.onEndpointSlice(sl, true);
            slices.delete(o.id);
          }
          const snapshot = state.snapshot();
          // Every snapshot goes through this planner: it may visit only the changed Services.
          const incremental = planner.plan(snapshot, { changedOnly: true });
          const fresh = planIpvs(snapshot, { nodePortIPs: ['192.168.0.10'], nodeIPs: ['192.168.0.10'] });
          expect(comparable(incremental)).toEqual(comparable(fresh));
          // The delta's promise to the applier: outside its keys, the very objects of the last plan.
          const delta = incremental.delta;
          if (delta) {
            expect(delta.from).toBe(previous);
            for (const key of new Set([...delta.from.keys(), ...incremental.virtualServers.keys()]))
              if (!delta.virtualServers.has(key))
                expect(incremental.virtualServers.get(key)).toBe(delta.from.get(key));
          }
          // No delta (a rebuild after a conflict) is always allowed: the applier then diffs everything.
          previous = incremental.virtualServers;
        }
      }),
      { numRuns: 80 },
    );
  });

  it('says which virtual servers changed since its last plan (delta)', () => {
    const state = new ProxyState('IPv4', 'node-a');
    const planner = new IpvsPlanner();
    const a = service('a');
    state.onService(undefined, a);
    state.onService(undefined, service('b', { clusterIP: '10.96.0.11' }));
    state.onEndpointSlice(slice('a', [{ ip: '10.244.1.1' }]), false);
    const first = planner.plan(state.snapshot());
    expect(first.delta).toBeUndefined();
    state.onEndpointSlice(slice('a', [{ ip: '10.244.1.2' }]), false);
    const second = planner.plan(state.snapshot());
    expect(second.delta?.from).toBe(first.virtualServers);
    expect([...(second.delta?.virtualServers ?? [])]).toEqual(['TCP/10.96.0.10:80']);
    state.onService(a, undefined);
    const third = planner.plan(state.snapshot());
    expect([...(third.delta?.virtualServers ?? [])]).toEqual(['TCP/10.96.0.10:80']);
    expect(third.virtualServers.has('TCP/10.96.0.10:80')).toBe(false);
    // Nothing changed: an empty delta from the very same map.
    const fourth = planner.plan(state.snapshot());
    expect(fourth.delta?.from).toBe(third.virtualServers);
    expect(fourth.delta?.virtualServers.size).toBe(0);
  });

  it('hands back unchanged sets as the same objects, so the applier can skip them', () => {
    const planner = new IpvsPlanner();
    const state = new ProxyState('IPv4', 'node-a');
    state.onService(undefined, service('web'));
    state.onEndpointSlice(slice('web', [{ ip: '10.244.1.1' }]), false);
    const first = planner.plan(state.snapshot());
    // The endpoint moves: real servers change, no ipset or kube-ipvs0 address does.
    state.onEndpointSlice(slice('web', [{ ip: '10.244.1.2' }]), false);
    const second = planner.plan(state.snapshot());
    expect(rs(second, 'TCP/10.96.0.10:80')).toEqual(['10.244.1.2:8080']);
    expect(second.ipsets.get('KUBE-CLUSTER-IP')!.entries).toBe(first.ipsets.get('KUBE-CLUSTER-IP')!.entries);
    expect(second.boundAddresses).toBe(first.boundAddresses);
    expect(second.virtualServers).not.toBe(first.virtualServers);
    expect(rs(first, 'TCP/10.96.0.10:80')).toEqual(['10.244.1.1:8080']);
  });

  it('leaves an earlier plan untouched when it makes the next one', () => {
    const planner = new IpvsPlanner();
    const state = new ProxyState('IPv4', 'node-a');
    const web = service('web');
    state.onService(undefined, web);
    const first = planner.plan(state.snapshot());
    state.onService(web, undefined);
    const second = planner.plan(state.snapshot());
    expect(second.virtualServers.size).toBe(0);
    expect([...first.virtualServers.keys()]).toEqual(['TCP/10.96.0.10:80']);
    expect([...first.boundAddresses]).toEqual(['10.96.0.10']);
    expect([...first.ipsets.get('KUBE-CLUSTER-IP')!.entries]).toEqual(['10.96.0.10,tcp:80']);
  });

  it("visits only a changed Service's ports when only endpoints changed (counted, not timed)", () => {
    const work = (services: number) => {
      const state = new ProxyState('IPv4', 'node-a');
      for (let i = 0; i < services; i++) {
        state.onService(undefined, service(`s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }));
        state.onEndpointSlice(slice(`s${i}`, [{ ip: `10.244.${i >> 8}.${i & 255}` }]), false);
      }
      const planner = new IpvsPlanner();
      const counted = countingSnapshots();
      planner.plan(counted.wrap(state.snapshot()), { changedOnly: true });
      const firstWalk = counted.reads();
      state.onEndpointSlice(slice('s7', [{ ip: '10.245.0.7' }]), false);
      const plan = planner.plan(counted.wrap(state.snapshot()), { changedOnly: true });
      expect(rs(plan, 'TCP/10.96.0.7:80')).toEqual(['10.245.0.7:8080']);
      expect(plan.virtualServers.size).toBe(services);
      expect([...(plan.delta?.virtualServers ?? [])]).toEqual(['TCP/10.96.0.7:80']);
      return { firstWalk, change: counted.reads() - firstWalk, stats: planner.lastStats };
    };
    const small = work(100);
    const large = work(5000);
    // The first plan walks every Service port: the counter sees the cluster's size.
    expect(small.firstWalk).toBeGreaterThanOrEqual(200);
    expect(large.firstWalk).toBeGreaterThanOrEqual(10_000);
    // One endpoint change: the same few reads of the snapshot at 100 and 5,000 Services.
    expect(large.change).toBe(small.change);
    expect(large.change).toBeLessThanOrEqual(4);
    expect(small.stats).toEqual({ visited: 1, walkedAll: false });
    expect(large.stats).toEqual({ visited: 1, walkedAll: false });
  });

  it('walks every Service when not told every snapshot was planned, or when Services changed', () => {
    const state = new ProxyState('IPv4', 'node-a');
    for (let i = 0; i < 20; i++)
      state.onService(undefined, service(`s${i}`, { clusterIP: `10.96.0.${i + 1}` }));
    const planner = new IpvsPlanner();
    planner.plan(state.snapshot(), { changedOnly: true });
    expect(planner.lastStats).toEqual({ visited: 20, walkedAll: true });
    state.onEndpointSlice(slice('s3', [{ ip: '10.244.0.3' }]), false);
    planner.plan(state.snapshot());
    expect(planner.lastStats).toEqual({ visited: 20, walkedAll: true });
    // A Service change: the Service map is a new one, so every port is visited again.
    state.onService(undefined, service('s20', { clusterIP: '10.96.0.21' }));
    const added = planner.plan(state.snapshot(), { changedOnly: true });
    expect(planner.lastStats).toEqual({ visited: 21, walkedAll: true });
    expect(added.virtualServers.has('TCP/10.96.0.21:80')).toBe(true);
    // New NodePort addresses change every fragment's context: a full walk too.
    state.onEndpointSlice(slice('s4', [{ ip: '10.244.0.4' }]), false);
    planner.plan(state.snapshot(), { changedOnly: true, nodePortIPs: ['192.168.0.10'] });
    expect(planner.lastStats.walkedAll).toBe(true);
  });
});

/**
 * Snapshots whose Service and endpoint maps count what is read from them (lookups and entries
 * iterated), so a test can tell a walk over every Service from a visit to one. A Service map is
 * wrapped once, so an unchanged one stays the same object, as the planner expects.
 */
function countingSnapshots() {
  let reads = 0;
  const wrapped = new WeakMap<object, ReadonlyMap<string, unknown>>();
  const counting = <V>(m: ReadonlyMap<string, V>): ReadonlyMap<string, V> => {
    const hit = wrapped.get(m);
    if (hit) return hit as ReadonlyMap<string, V>;
    const entries = function* () {
      for (const e of m) {
        reads++;
        yield e;
      }
    };
    const w: ReadonlyMap<string, V> = {
      get size() {
        return m.size;
      },
      get: (k) => {
        reads++;
        return m.get(k);
      },
      has: (k) => {
        reads++;
        return m.has(k);
      },
      entries,
      keys: function* () {
        for (const [k] of entries()) yield k;
      },
      values: function* () {
        for (const [, v] of entries()) yield v;
      },
      forEach: (fn) => {
        for (const [k, v] of entries()) fn(v, k, w);
      },
      [Symbol.iterator]: entries,
    } as ReadonlyMap<string, V>;
    wrapped.set(m, w);
    return w;
  };
  return {
    wrap: (s: ProxySnapshot): ProxySnapshot => ({
      ...s,
      services: counting(s.services),
      endpoints: counting(s.endpoints),
    }),
    reads: () => reads,
  };
}
