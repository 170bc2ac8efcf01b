// kube-proxy ipvs-mode benchmarks (Services = ClusterIP, one TCP port, E ready endpoints each):
//  - pure planning (IpvsPlanner), against building the iptables-mode ruleset for the same
//    snapshot (baseline), and a memoized re-plan after one endpoint change;
//  - on this machine, IPVS through @nodeagent/ipvs over a transport that answers at once
//    (ipvs-null-kernel.ts): a full sync and one endpoint change's CPU time, visiting the changed
//    Service only and, for comparison, walking every Service (KP_IPVS_HOST_SIZES, default 5000x50);
//  - in the micro-VM (real IPVS, ipset, iptables, kube-ipvs0 over rtnetlink as the daemon does):
//    a full sync from an empty kernel with each layer's busy time, against its floor in the same
//    VM run (the plan's ipsets through `ipset restore`, its payload through `iptables-restore`,
//    its addresses through `ip -batch`, its virtual + real servers through bare @nodeagent/ipvs
//    calls); one EndpointSlice change until the kernel holds it (p50/p99; with the node address
//    lookup the proxier makes per sync), against the two bare calls it comes down to (add a real
//    server, drain one); and at the end the kernel's virtual servers, real servers, addresses
//    and jumps from built-in chains counted against the plan's.
// The floor and ours run in two network namespaces of one VM boot (see floors() for why).
// Sizes: `S` (S Services x 3 endpoints, the old default) or `SxE`, comma-separated, e.g.
// KP_IPVS_SYNC_SIZE=1000x50,5000x50 (one VM boot each, from an empty kernel); KP_IPVS_PLAN_SIZES
// likewise (empty: no planning part). KP_IPVS_RESULT_FILE names the result file in bench-results/. Run: npm run bench:ipvs -w @nodeagent/kube-proxy  (root; the VM part boots the VM).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ProxyState, snapshotFromObjects } from '../src/index';
import { execIptables, renderIptablesRuleset } from '../src/iptables/index';
import {
  execIpsetLayer,
  GracefulTermination,
  IPVS_JUMP_RULES,
  IpvsApplier,
  type IpvsPlan,
  IpvsPlanner,
  KUBE_IPVS_INTERFACE,
  openIpvsTable,
  rtnetlinkLinkLayer,
} from '../src/ipvs/index';
import { procSysctlLayer } from '../src/runtime/index';
import { benchService, benchSlice } from './bench-cluster';
import { BusyClock, floors, kernelAgainstPlan, progress, quantile, round } from './ipvs-bench-kernel';
import { nullKernel } from './ipvs-null-kernel';

interface Size {
  services: number;
  endpoints: number;
  label: string;
}

const parseSize = (s: string): Size => {
  const [n, e] = s.split('x').map(Number) as [number, number | undefined];
  return { services: n, endpoints: e ?? 3, label: `${n}x${e ?? 3}` };
};
const sizes = (s: string) => s.split(',').filter(Boolean).map(parseSize);
const PLAN_SIZES = sizes(process.env.KP_IPVS_PLAN_SIZES ?? '1000,10000');
const SYNC_SIZES = sizes(process.env.KP_IPVS_SYNC_SIZE ?? '1000');
const HOST_SIZES = sizes(process.env.KP_IPVS_HOST_SIZES ?? '5000x50');
const CHANGES = Number(process.env.KP_IPVS_CHANGES ?? 100);
const NODE = 'node-a';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Each generation moves the last endpoint to a new address. */
const sliceFor = (i: number, endpoints: number, generation: number) =>
  benchSlice(i, endpoints, (e) => (e === endpoints - 1 ? generation % 8 : 0));

const median = (xs: number[]) => quantile(xs, 0.5);

async function planning() {
  const out: Record<string, unknown> = {};
  for (const { services: n, endpoints, label } of PLAN_SIZES) {
    const services = Array.from({ length: n }, (_, i) => benchService(i));
    const slices = Array.from({ length: n }, (_, i) => sliceFor(i, endpoints, 0));
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: NODE,
      services,
      endpointSlices: slices,
    });
    // Incremental: one slice changes per iteration; the memo re-plans only that Service.
    const state = new ProxyState('IPv4', NODE);
    for (const s of services) state.onService(undefined, s);
    for (const s of slices) state.onEndpointSlice(s, false);
    const planner = new IpvsPlanner();
    planner.plan(state.snapshot());
    let gen = 0;
    const bench = new Bench({ time: 1500, warmupTime: 300 });
    bench
      .add('iptables build (baseline)', () => {
        renderIptablesRuleset(snapshot);
      })
      .add('ipvs plan (full)', () => {
        new IpvsPlanner().plan(snapshot);
      })
      .add('ipvs plan after one endpoint change (memo)', () => {
        gen++;
        state.onEndpointSlice(sliceFor(gen % n, endpoints, gen), false);
        planner.plan(state.snapshot(), { changedOnly: true });
      });
    await bench.run();
    const ms = Object.fromEntries(
      bench.tasks.map((t) => [t.name, t.result.state === 'completed' ? t.result.latency.mean : Number.NaN]),
    );
    const base = ms['iptables build (baseline)']!;
    out[label] = {
      meanMs: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v, 3)])),
      ratioToIptablesBuild: {
        full: round(ms['ipvs plan (full)']! / base, 3),
        oneChange: round(ms['ipvs plan after one endpoint change (memo)']! / base, 4),
      },
    };
    console.log(`plan ${label}`, JSON.stringify(out[label]));
  }
  return out;
}

/** Per change, ms: all of it, the snapshot + plan, and the node address lookup (0 without one). */
interface ChangeTimes {
  total: number[];
  plan: number[];
  addresses: number[];
  /** Service ports the planner visited (IpvsPlanner.lastStats; undefined on older trees). */
  visited: (number | undefined)[];
}

/**
 * One EndpointSlice change until the kernel holds it, `changes` times, as IpvsProxier's sync does
 * it: snapshot, the node's addresses (upstream's per-sync lookup, when NodePort addresses are not
 * configured), plan (only the changed Services unless `walkAll`), apply.
 */
async function changeLatencies(
  state: ProxyState,
  planner: IpvsPlanner,
  applier: IpvsApplier,
  size: Size,
  opts: { changes: number; first: number; nodeAddresses?: () => Promise<string[]>; walkAll?: boolean },
): Promise<ChangeTimes> {
  const out: ChangeTimes = { total: [], plan: [], addresses: [], visited: [] };
  for (let c = opts.first; c < opts.first + opts.changes; c++) {
    const t = performance.now();
    state.onEndpointSlice(sliceFor(c % size.services, size.endpoints, c), false);
    const snapshot = state.snapshot();
    const ta = performance.now();
    const nodePortIPs = opts.nodeAddresses ? await opts.nodeAddresses() : undefined;
    const tp = performance.now();
    const p = planner.plan(snapshot, { ...(nodePortIPs ? { nodePortIPs } : {}), changedOnly: !opts.walkAll });
    out.addresses.push(tp - ta);
    out.plan.push(performance.now() - t - (tp - ta));
    out.visited.push(planner.lastStats?.visited);
    await applier.apply(p, Date.now());
    out.total.push(performance.now() - t);
  }
  return out;
}

/** The bare calls one change comes down to: add the new real server, drain the old one. */
async function rawChanges(
  ipvs: Awaited<ReturnType<typeof openIpvsTable>>,
  plan: IpvsPlan,
): Promise<number[]> {
  const out: number[] = [];
  const vsList = [...plan.virtualServers.values()];
  for (let c = 1; c <= CHANGES; c++) {
    const vs = vsList[c % vsList.length]!;
    const key = { protocol: vs.protocol, address: vs.address, port: vs.port };
    const old = [...vs.realServers.values()][0]!;
    const t = performance.now();
    await ipvs.addDestination(key, { address: `10.255.${c >> 8}.${c & 255}`, port: old.port, weight: 1 });
    await ipvs.updateDestination(key, { ...old, weight: 0 });
    out.push(performance.now() - t);
  }
  return out;
}

const summary = (xs: number[]) => ({
  p50: round(median(xs)),
  p99: round(quantile(xs, 0.99)),
  max: round(Math.max(...xs)),
});

/** The floor part, in its own network namespace: tools and bare calls, then one change's bare calls. */
async function floorPart(planned: IpvsPlan): Promise<Record<string, unknown>> {
  const ipvs = await openIpvsTable();
  try {
    const floor = await floors(ipvs, planned);
    const rawChange = await rawChanges(ipvs, planned);
    return { floor, rawOneChange: summary(rawChange), rawOneChangeMs: rawChange.map((x) => round(x)) };
  } finally {
    ipvs.close();
  }
}

/** Our part, in its own network namespace: a full sync from empty, changes, the kernel check. */
async function oursPart(size: Size): Promise<Record<string, unknown>> {
  const ipvs = await openIpvsTable();
  const link = rtnetlinkLinkLayer();
  const clock = new BusyClock();
  const kernel = {
    // Not timed per call: a wrapper per write (250k of them) would slow what it measures.
    ipvs,
    link: clock.wrap('link', link),
    ipset: clock.wrap('ipset', execIpsetLayer()),
    iptables: clock.wrap('iptables', execIptables({ family: 'IPv4' })),
    sysctl: clock.wrap('sysctl', procSysctlLayer()),
  };
  const result: Record<string, unknown> = {};
  try {
    const state = new ProxyState('IPv4', NODE);
    for (let i = 0; i < size.services; i++) state.onService(undefined, benchService(i));
    for (let i = 0; i < size.services; i++) state.onEndpointSlice(sliceFor(i, size.endpoints, 0), false);
    const planner = new IpvsPlanner();
    const graceful = new GracefulTermination();
    const applier = new IpvsApplier({ ...kernel, family: 'IPv4', graceful });
    const t1 = performance.now();
    const plan = planner.plan(state.snapshot());
    const planMs = performance.now() - t1;
    clock.take();
    await applier.apply(plan, Date.now());
    const fullMs = performance.now() - t1;
    const busyMs = clock.take();
    const layersMs = Object.values(busyMs).reduce((a, b) => a + b, 0);
    result.fullSync = {
      totalMs: round(fullMs),
      planMs: round(planMs),
      busyMs,
      // IPVS writes and the applier's own work: everything else (the steps run one after another).
      ipvsAndApplierMs: round(fullMs - planMs - layersMs),
    };
    progress('full sync', result.fullSync);
    const nodeAddresses = () => link.localAddresses('IPv4', KUBE_IPVS_INTERFACE);
    const changes = await changeLatencies(state, planner, applier, size, {
      changes: CHANGES,
      first: 1,
      nodeAddresses,
    });
    result.oneChange = summary(changes.total);
    result.oneChangeSnapshotAndPlan = summary(changes.plan);
    result.oneChangeNodeAddresses = summary(changes.addresses);
    result.oneChangeMs = changes.total.map((x) => round(x));
    progress('changes', result.oneChange);
    result.jumps = await jumpsPresent(kernel.iptables);
    result.kernel = await kernelAgainstPlan(ipvs, planner.plan(state.snapshot()), graceful.size);
  } finally {
    ipvs.close();
    link.close();
  }
  return result;
}

/** How many of ipvs mode's jumps from built-in chains the kernel holds (one iptables-save). */
async function jumpsPresent(iptables: {
  saveTable(): Promise<string>;
}): Promise<{ present: number; of: number }> {
  const save = await iptables.saveTable();
  const line = (args: readonly string[]) => args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ');
  const present = IPVS_JUMP_RULES.filter((j) => save.includes(`-A ${j.chain} ${line(j.args)}\n`)).length;
  return { present, of: IPVS_JUMP_RULES.length };
}

/**
 * On this machine, IPVS over a transport that answers at once (ipvs-null-kernel.ts): a full sync
 * and one endpoint change's CPU time (snapshot, plan, apply, the library's encoding), visiting
 * only the changed Service and, for comparison, walking every Service as before #54.
 */
async function hostPart(size: Size): Promise<Record<string, unknown>> {
  const { layers, transport } = await nullKernel();
  const state = new ProxyState('IPv4', NODE);
  for (let i = 0; i < size.services; i++) state.onService(undefined, benchService(i));
  for (let i = 0; i < size.services; i++) state.onEndpointSlice(sliceFor(i, size.endpoints, 0), false);
  const planner = new IpvsPlanner();
  const applier = new IpvsApplier({ ...layers, family: 'IPv4', graceful: new GracefulTermination() });
  const t = performance.now();
  await applier.apply(planner.plan(state.snapshot(), { changedOnly: true }), Date.now());
  const fullSyncMs = round(performance.now() - t);
  const messagesFull = transport.messages;
  const run = async (walkAll: boolean, first: number) => {
    const before = transport.messages;
    // The first 50 warm the JIT up and are left out.
    await changeLatencies(state, planner, applier, size, { changes: 50, first, walkAll });
    const c = await changeLatencies(state, planner, applier, size, {
      changes: 300,
      first: first + 50,
      walkAll,
    });
    return {
      total: summary(c.total),
      snapshotAndPlan: summary(c.plan),
      visitedPerChange: c.visited[0] ?? null,
      ipvsMessagesPerChange: round((transport.messages - before) / 350),
    };
  };
  const changedOnly = await run(false, 1);
  const walkAll = await run(true, 1001);
  return {
    fullSyncMs,
    ipvsMessagesFullSync: messagesFull,
    oneChange: changedOnly,
    oneChangeWalkingAll: walkAll,
  };
}

/** Inside the micro-VM (one namespace per part): prints one `IPVS-BENCH <json>` line. */
async function inVm() {
  const size = SYNC_SIZES[0]!;
  let result: Record<string, unknown>;
  if (process.env.KP_IPVS_BENCH_PART === 'floor') {
    const services = Array.from({ length: size.services }, (_, i) => benchService(i));
    const slices = Array.from({ length: size.services }, (_, i) => sliceFor(i, size.endpoints, 0));
    const planned = new IpvsPlanner().plan(
      snapshotFromObjects({ family: 'IPv4', nodeName: NODE, services, endpointSlices: slices }),
    );
    result = await floorPart(planned);
  } else result = await oursPart(size);
  process.stdout.write(`IPVS-BENCH ${JSON.stringify(result)}\n`);
}

async function vmPart(size: Size): Promise<Record<string, unknown>> {
  const { runInVm } = await import('../../../tools/vm/vm');
  const { bundleEntry } = await import('../../../tools/bundle/bundle-entry');
  const bundle = bundleEntry(fileURLToPath(import.meta.url));
  try {
    const modules =
      'ip_vs ip_vs_rr xt_ipvs dummy ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_bitmap_port xt_set xt_comment xt_addrtype xt_mark xt_conntrack xt_MASQUERADE xt_physdev nft_compat';
    const loadAtBoot = loadavg()[0]!;
    const r = await runInVm({
      command: 'sh',
      // One network namespace per part (see floors()), the floor first.
      args: [
        '-c',
        // lo up: a namespace without a local address has no local routing table, and IPVS
        // then refuses a masquerading real server (EINVAL) until kube-ipvs0 gets its addresses.
        `modprobe -a ${modules} && for n in kp-floor kp-ours; do ip netns add $n && ip -n $n link set lo up || exit 1; done && ` +
          `KP_IPVS_BENCH_PART=floor ip netns exec kp-floor node ${bundle.file} && ` +
          `KP_IPVS_BENCH_PART=ours ip netns exec kp-ours node ${bundle.file}`,
      ],
      cwd: repoRoot,
      env: {
        KP_IPVS_BENCH_IN_VM: '1',
        KP_IPVS_SYNC_SIZE: size.label,
        KP_IPVS_CHANGES: String(CHANGES),
      },
      memoryMb: Number(process.env.KP_IPVS_VM_MEMORY_MB ?? 2048),
      timeoutMs: 900_000,
      onStdout: (c) => process.stdout.write(c),
      onStderr: (c) => process.stderr.write(c),
    });
    const parts = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('IPVS-BENCH '))
      .map((l) => JSON.parse(l.slice('IPVS-BENCH '.length)));
    if (parts.length !== 2)
      throw new Error(`no result from the VM (exit ${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
    const [floor, ours] = parts;
    return {
      services: size.services,
      endpointsPerService: size.endpoints,
      ...ours,
      floor: floor.floor,
      rawOneChange: floor.rawOneChange,
      ratioFullSyncToFloor: round(ours.fullSync.totalMs / floor.floor.totalMs),
      ratioOneChangeToRawCalls: round(ours.oneChange.p50 / floor.rawOneChange.p50),
      rawOneChangeMs: floor.rawOneChangeMs,
      vm: {
        durationMs: Math.round(r.durationMs),
        bootMs: Math.round(r.bootMs),
        speedFactor: round(r.speedFactor),
        qemuCpuMs: r.qemuCpuMs,
        load1AtBoot: round(loadAtBoot),
        load1AtEnd: round(loadavg()[0]!),
      },
    };
  } finally {
    bundle.dispose();
  }
}

async function main() {
  if (process.env.KP_IPVS_BENCH_IN_VM === '1') return inVm();
  const loadAtStart = loadavg();
  const host: Record<string, unknown> = {};
  for (const size of HOST_SIZES) {
    const load1 = round(loadavg()[0]!);
    host[size.label] = { ...(await hostPart(size)), load1AtStart: load1, load1AtEnd: round(loadavg()[0]!) };
    console.log(`host ${size.label}`, JSON.stringify(host[size.label]));
  }
  const plan = await planning();
  const vm: Record<string, unknown> = {};
  for (const size of SYNC_SIZES) {
    vm[size.label] = await vmPart(size);
    console.log(`vm ${size.label}`, JSON.stringify(vm[size.label]));
  }
  const dir = join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, process.env.KP_IPVS_RESULT_FILE ?? 'kube-proxy-ipvs.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        note: 'VM numbers are under TCG emulation (no KVM); compare ratios, not absolute times',
        loadavgAtStart: loadAtStart.map((x) => round(x)),
        loadavgAtEnd: loadavg().map((x) => round(x)),
        host,
        planning: plan,
        vmSync: vm,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
