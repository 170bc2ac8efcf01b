import { describe, expect, it } from 'vitest';
import { ProxyState, snapshotFromObjects } from '../src/index';
import { fakeKernel } from '../src/ipvs/fake-ipvs-kernel';
import {
  cleanupIpvs,
  GracefulTermination,
  IpvsApplier,
  IpvsPlanner,
  type IpvsPlanOptions,
  planIpvs,
} from '../src/ipvs/index';
import { type EndpointSpec, service, slice } from './fixtures';
import { ipvsTable, rs, vs } from './ipvs-table-view';

type Svc = ReturnType<typeof service>;
type Slice = ReturnType<typeof slice>;

const plan = (services: readonly Svc[], slices: readonly Slice[], opts: IpvsPlanOptions = {}) =>
  planIpvs(
    snapshotFromObjects({ family: 'IPv4', nodeName: 'node-a', services, endpointSlices: slices }),
    opts,
  );

function setup(extra: { excludeCIDRs?: string[]; strictARP?: boolean; timeoutMs?: number } = {}) {
  const k = fakeKernel();
  const graceful = new GracefulTermination({ timeoutMs: extra.timeoutMs ?? 60_000 });
  const applier = new IpvsApplier({
    ...k,
    family: 'IPv4',
    graceful,
    excludeCIDRs: extra.excludeCIDRs,
    strictARP: extra.strictARP,
  });
  return { ...k, graceful, applier };
}

const web = (eps: EndpointSpec[], svc: Partial<NonNullable<Svc['spec']>> = {}) =>
  [
    [service('web', svc)],
    [slice('web', eps, svc.ports ? { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] } : {})],
  ] as const;

describe('IpvsApplier against the fake kernel', () => {
  it('creates virtual servers, addresses, ipsets and rules, then does nothing for the same plan', async () => {
    const k = setup();
    const p = plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }]));
    const r = await k.applier.apply(p, 0);
    expect(r).toMatchObject({
      full: true,
      servicesAdded: 1,
      realServersAdded: 2,
      addressesBound: 1,
      iptablesRestored: true,
    });
    expect(await ipvsTable(k.ipvs)).toEqual({
      'TCP/10.96.0.10:80': ['10.244.1.1:8080 w1', '10.244.1.2:8080 w1'],
    });
    expect(k.link.links.get('kube-ipvs0')).toEqual(new Set(['10.96.0.10']));
    expect(k.ipset.sets.get('KUBE-CLUSTER-IP')?.entries).toEqual(new Set(['10.96.0.10,tcp:80']));
    expect(k.ipset.sets.get('KUBE-NODE-PORT-TCP')?.type).toBe('bitmap:port');
    expect(k.iptablesKernel.builtinChainRules()).toContain(
      'nat PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    );
    expect(k.iptablesKernel.userChains('filter').includes('KUBE-IPVS-FILTER')).toBe(true);
    expect(k.iptablesKernel.userChains('filter').includes('KUBE-IPVS-OUT-FILTER')).toBe(true);
    expect(k.iptablesKernel.builtinChainRules()).toContain(
      'filter OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER',
    );

    const opsBefore = k.ipvs.writes.length;
    const again = await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])), 1);
    expect(again).toMatchObject({
      full: false,
      servicesAdded: 0,
      realServersAdded: 0,
      ipsetLines: 0,
      iptablesRestored: false,
    });
    expect(k.ipvs.writes.length).toBe(opsBefore);
  });

  it('sets the IPVS sysctls, and arp_ignore/arp_announce only with strictARP', async () => {
    const plain = setup();
    await plain.applier.apply(plan([], []), 0);
    expect(plain.sysctl.values.get('net.ipv4.vs.conntrack')).toBe('1');
    expect(plain.sysctl.values.get('net.ipv4.ip_forward')).toBe('1');
    expect(plain.sysctl.values.get('net.ipv4.conf.all.arp_ignore')).toBe('0');
    const strict = setup({ strictARP: true });
    await strict.applier.apply(plan([], []), 0);
    expect(strict.sysctl.values.get('net.ipv4.conf.all.arp_ignore')).toBe('1');
    expect(strict.sysctl.values.get('net.ipv4.conf.all.arp_announce')).toBe('2');
  });

  it('drains a removed TCP real server at weight 0 and deletes it once its connections are gone', async () => {
    const k = setup();
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])), 0);
    k.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 1, 2);
    const r = await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 1000);
    expect(r.realServersDraining).toBe(1);
    expect((await ipvsTable(k.ipvs))['TCP/10.96.0.10:80']).toEqual([
      '10.244.1.1:8080 w1',
      '10.244.1.2:8080 w0',
    ]);
    expect(k.graceful.size).toBe(1);
    // Still busy: stays.
    expect(await k.applier.processGracefulTermination(5000)).toBe(0);
    expect((await ipvsTable(k.ipvs))['TCP/10.96.0.10:80']).toHaveLength(2);
    k.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 0, 0);
    expect(await k.applier.processGracefulTermination(6000)).toBe(1);
    expect((await ipvsTable(k.ipvs))['TCP/10.96.0.10:80']).toEqual(['10.244.1.1:8080 w1']);
    expect(k.graceful.size).toBe(0);
    // The applier knows it is gone: re-adding the endpoint adds it again.
    const back = await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])), 7000);
    expect(back.realServersAdded).toBe(1);
  });

  it('checks only the virtual servers an apply just drained, every draining one when asked', async () => {
    const k = setup();
    const two = (a: string[], b: string[]) =>
      plan(
        [service('web'), service('db', { clusterIP: '10.96.0.11' })],
        [
          slice(
            'web',
            a.map((ip) => ({ ip })),
          ),
          slice(
            'db',
            b.map((ip) => ({ ip })),
          ),
        ],
      );
    await k.applier.apply(two(['10.244.1.1', '10.244.1.2'], ['10.244.2.1', '10.244.2.2']), 0);
    k.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 1, 0);
    await k.applier.apply(two(['10.244.1.1'], ['10.244.2.1', '10.244.2.2']), 1);
    // web's drained real server has no connections left, but db's change does not look at web.
    k.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 0, 0);
    k.ipvs.setConnections(vs('TCP/10.96.0.11:80'), rs('10.244.2.2:8080'), 1, 0);
    const r = await k.applier.apply(two(['10.244.1.1'], ['10.244.2.1']), 2);
    expect(r.realServersDeleted).toBe(0);
    expect(k.graceful.size).toBe(2);
    // The periodic check asks for all of them.
    k.applier.requestFullDrain();
    const all = await k.applier.apply(two(['10.244.1.1'], ['10.244.2.1']), 3);
    expect(all.realServersDeleted).toBe(1);
    expect((await ipvsTable(k.ipvs))['TCP/10.96.0.10:80']).toEqual(['10.244.1.1:8080 w1']);
    expect(k.graceful.size).toBe(1);
  });

  it('gives up draining after the timeout', async () => {
    const k = setup({ timeoutMs: 10_000 });
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])), 0);
    k.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 3, 0);
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 1000);
    expect(await k.applier.processGracefulTermination(10_999)).toBe(0);
    expect(await k.applier.processGracefulTermination(11_000)).toBe(1);
  });

  it('puts a draining real server back into rotation when its endpoint returns', async () => {
    const k = setup();
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])), 0);
    k.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 1, 0);
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 1);
    const r = await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])), 2);
    expect(r.realServersUpdated).toBe(1);
    expect((await ipvsTable(k.ipvs))['TCP/10.96.0.10:80']).toEqual([
      '10.244.1.1:8080 w1',
      '10.244.1.2:8080 w1',
    ]);
    expect(k.graceful.size).toBe(0);
  });

  it('deletes a removed UDP real server immediately', async () => {
    const k = setup();
    const udp = { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] };
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }], udp)), 0);
    expect(Object.keys(await ipvsTable(k.ipvs))).toEqual(['UDP/10.96.0.10:53']);
    k.ipvs.setConnections(vs('UDP/10.96.0.10:53'), rs('10.244.1.2:5353'), 0, 4);
    const r = await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }], udp)), 1);
    expect(r.realServersDeleted).toBe(1);
    expect((await ipvsTable(k.ipvs))['UDP/10.96.0.10:53']).toEqual(['10.244.1.1:5353 w1']);
    expect(k.graceful.size).toBe(0);
  });

  it('removes the virtual server, its address and ipset entries when the Service goes', async () => {
    const k = setup();
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 0);
    const r = await k.applier.apply(plan([], []), 1);
    expect(r).toMatchObject({ servicesDeleted: 1, addressesUnbound: 1 });
    expect(await ipvsTable(k.ipvs)).toEqual({});
    expect(k.link.links.get('kube-ipvs0')).toEqual(new Set());
    expect(k.ipset.sets.get('KUBE-CLUSTER-IP')?.entries.size).toBe(0);
    expect(k.ipset.sets.get('KUBE-IPVS-IPS')?.entries.size).toBe(0);
  });

  it('on the first sync deletes stale virtual servers but keeps excludeCIDRs and fwmark ones', async () => {
    const k = setup({ excludeCIDRs: ['10.200.0.0/16'] });
    await k.ipvs.addService({ protocol: 'tcp', address: '10.96.0.99', port: 80, scheduler: 'rr' });
    await k.ipvs.addService({ protocol: 'tcp', address: '10.200.0.1', port: 80, scheduler: 'rr' });
    await k.ipvs.addService({ fwmark: 7, scheduler: 'rr' });
    await k.link.ensureDummy('kube-ipvs0');
    await k.link.addAddresses('kube-ipvs0', ['10.96.0.99']);
    const r = await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 0);
    expect(r.servicesDeleted).toBe(1);
    expect(Object.keys(await ipvsTable(k.ipvs)).sort()).toEqual([
      'FWM/7',
      'TCP/10.200.0.1:80',
      'TCP/10.96.0.10:80',
    ]);
    expect(k.link.links.get('kube-ipvs0')).toEqual(new Set(['10.96.0.10']));
  });

  it('adopts what a previous run left in the kernel without rewriting it', async () => {
    const k = setup();
    const p = plan(...web([{ ip: '10.244.1.1' }], { sessionAffinity: 'ClientIP' }));
    await k.applier.apply(p, 0);
    const restarted = new IpvsApplier({ ...k, family: 'IPv4', graceful: new GracefulTermination() });
    const ops = k.ipvs.writes.length;
    const r = await restarted.apply(p, 1);
    expect(r).toMatchObject({
      full: true,
      servicesAdded: 0,
      servicesUpdated: 0,
      realServersAdded: 0,
      ipsetLines: 0,
    });
    expect(k.ipvs.writes.slice(ops)).toEqual([]);
  });

  it('updates a virtual server whose scheduler or affinity changed', async () => {
    const k = setup();
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 0);
    const r = await k.applier.apply(
      plan(...web([{ ip: '10.244.1.1' }], { sessionAffinity: 'ClientIP' }), { scheduler: 'wlc' }),
      1,
    );
    expect(r.servicesUpdated).toBe(1);
    const svc = await k.ipvs.getService(vs('TCP/10.96.0.10:80'));
    expect(svc).toMatchObject({ scheduler: 'wlc', timeout: 10800 });
    expect(svc.flags.persistent).toBe(true);
  });

  it('after a failed write re-reads the kernel and converges', async () => {
    const k = setup();
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 0);
    const two = [service('web'), service('db', { clusterIP: '10.96.0.11' })];
    const slices = [
      slice('web', [{ ip: '10.244.1.1' }]),
      slice('db', [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }]),
    ];
    k.ipvs.failAfter(2);
    await expect(k.applier.apply(plan(two, slices), 1)).rejects.toThrow(/EIO/);
    expect(k.applier.needsFullSync).toBe(true);
    const r = await k.applier.apply(plan(two, slices), 2);
    expect(r.full).toBe(true);
    expect(await ipvsTable(k.ipvs)).toEqual({
      'TCP/10.96.0.10:80': ['10.244.1.1:8080 w1'],
      'TCP/10.96.0.11:80': ['10.244.1.2:8080 w1', '10.244.1.3:8080 w1'],
    });
  });

  it('applies a planner delta by its keys, and diffs everything when it does not follow what was applied', async () => {
    const k = setup();
    const state = new ProxyState('IPv4', 'node-a');
    const planner = new IpvsPlanner();
    const ip = (n: number) => `10.96.0.${10 + n}`;
    const svcs = [0, 1, 2].map((n) => service(`s${n}`, { clusterIP: ip(n) }));
    for (const s of svcs) state.onService(undefined, s);
    const eps = (n: number, host: number) =>
      state.onEndpointSlice(slice(`s${n}`, [{ ip: `10.244.${n}.${host}` }]), false);
    for (const n of [0, 1, 2]) eps(n, 1);
    const apply = (now: number) => k.applier.apply(planner.plan(state.snapshot()), now);
    expect((await apply(0)).full).toBe(true);

    eps(0, 2);
    expect(await apply(1)).toMatchObject({ full: false, realServersAdded: 1, realServersDeleted: 1 });
    state.onService(svcs[2], undefined);
    expect(await apply(2)).toMatchObject({ servicesDeleted: 1, addressesUnbound: 1 });
    // A plan made but never applied: the next one's delta starts from it, not from what the
    // kernel holds, so the applier must diff every virtual server to pick up s1's change.
    eps(1, 2);
    planner.plan(state.snapshot());
    eps(0, 3);
    expect(await apply(3)).toMatchObject({ full: false, realServersAdded: 2, realServersDeleted: 2 });
    // A failed apply: the next one reads the kernel back.
    eps(1, 3);
    k.ipvs.failAfter(0);
    await expect(apply(4)).rejects.toThrow(/EIO/);
    expect((await apply(5)).full).toBe(true);

    const want = {
      'TCP/10.96.0.10:80': ['10.244.0.3:8080 w1'],
      'TCP/10.96.0.11:80': ['10.244.1.3:8080 w1'],
    };
    expect(await ipvsTable(k.ipvs)).toEqual(want);
    expect(k.link.links.get('kube-ipvs0')).toEqual(new Set([ip(0), ip(1)]));
    // What a fresh applier makes of the final plan.
    const fresh = setup();
    await fresh.applier.apply(planIpvs(state.snapshot()), 0);
    expect(await ipvsTable(fresh.ipvs)).toEqual(want);
  });

  it('cleanup flushes every virtual server as upstream (fwmark and excludeCIDRs ones too), removes our chains, kube-ipvs0 and ipsets, and no other chain or set', async () => {
    const k = setup({ excludeCIDRs: ['10.200.0.0/16'] });
    await k.applier.apply(plan(...web([{ ip: '10.244.1.1' }])), 0);
    await k.ipvs.addService({ protocol: 'tcp', address: '10.200.0.1', port: 80, scheduler: 'rr' });
    await k.ipvs.addService({ fwmark: 9, scheduler: 'rr' });
    const before = Object.keys(await ipvsTable(k.ipvs)).length;
    k.ipset.createSet('OTHER-SET', 'hash:ip');
    await k.iptables.ensureChain('nat', 'SOMEONE-ELSE');
    const r = await cleanupIpvs({ ...k, iptables: [k.iptables] });
    expect(r).toMatchObject({
      deletedServices: before,
      deletedInterface: true,
      destroyedIpsets: 17,
      deletedChains: 11,
    });
    expect(before).toBeGreaterThanOrEqual(3);
    expect(await ipvsTable(k.ipvs)).toEqual({});
    expect([...k.ipset.sets.keys()]).toEqual(['OTHER-SET']);
    expect(k.link.links.has('kube-ipvs0')).toBe(false);
    expect(k.iptablesKernel.userChains('nat').includes('SOMEONE-ELSE')).toBe(true);
    expect(k.iptablesKernel.userChains('nat').includes('KUBE-SERVICES')).toBe(false);
    expect(k.iptablesKernel.builtinChainRules()).toEqual([]);
  });
});
