// kube-proxy ipvs-mode benchmarks (Services = ClusterIP, one TCP port, 3 ready endpoints):
//  - pure planning at 1k and 10k Services (IpvsPlanner), against building the iptables-mode
//    ruleset for the same snapshot (baseline), and a memoized re-plan after one endpoint change;
//  - in the micro-VM (real IPVS, ipset, iptables, kube-ipvs0): a full sync at 1k Services and
//    the latency of one EndpointSlice change until the kernel holds it, against programming the
//    same 1k virtual servers with bare @nodeagent/ipvs calls (baseline, same VM run); one change
//    is also compared with the two bare calls it comes down to (add a real server, drain one).
// Run: npm run bench:ipvs -w @nodeagent/kube-proxy  (root; the VM part boots the micro-VM).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ProxyState, snapshotFromObjects } from '../src/index';
import { execIptables, renderIptablesRuleset } from '../src/iptables/index';
import {
  execIpsetLayer,
  execLinkLayer,
  GracefulTermination,
  IpvsApplier,
  IpvsPlanner,
  openIpvsTable,
} from '../src/ipvs/index';
import { procSysctlLayer } from '../src/runtime/index';
import { benchService, benchSlice } from './bench-cluster';

const PLAN_SIZES = (process.env.KP_IPVS_PLAN_SIZES ?? '1000,10000').split(',').map(Number);
// Comma-separated: one VM boot per size (each starts from an empty kernel).
const SYNC_SIZES = (process.env.KP_IPVS_SYNC_SIZE ?? '1000').split(',').map(Number);
const CHANGES = Number(process.env.KP_IPVS_CHANGES ?? 20);
const ENDPOINTS = 3;
const NODE = 'node-a';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Each generation moves the last endpoint to a new address. */
const sliceFor = (i: number, generation: number) =>
  benchSlice(i, ENDPOINTS, (e) => (e === ENDPOINTS - 1 ? generation % 8 : 0));

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function planning() {
  const out: Record<string, unknown> = {};
  for (const n of PLAN_SIZES) {
    const services = Array.from({ length: n }, (_, i) => benchService(i));
    const slices = Array.from({ length: n }, (_, i) => sliceFor(i, 0));
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
        state.onEndpointSlice(sliceFor(gen % n, gen), false);
        planner.plan(state.snapshot());
      });
    await bench.run();
    const ms = Object.fromEntries(
      bench.tasks.map((t) => [t.name, t.result.state === 'completed' ? t.result.latency.mean : Number.NaN]),
    );
    const base = ms['iptables build (baseline)']!;
    out[`${n}`] = {
      meanMs: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v, 3)])),
      ratioToIptablesBuild: {
        full: round(ms['ipvs plan (full)']! / base, 3),
        oneChange: round(ms['ipvs plan after one endpoint change (memo)']! / base, 4),
      },
    };
    console.log(`plan n=${n}`, JSON.stringify(out[`${n}`]));
  }
  return out;
}

/** Inside the micro-VM: the kernel part, printed as one `IPVS-BENCH <json>` line. */
async function inVm() {
  const SYNC_SIZE = SYNC_SIZES[0]!;
  const services = Array.from({ length: SYNC_SIZE }, (_, i) => benchService(i));
  const slices = Array.from({ length: SYNC_SIZE }, (_, i) => sliceFor(i, 0));
  const ipvs = await openIpvsTable();
  const kernel = {
    ipvs,
    link: execLinkLayer(),
    ipset: execIpsetLayer(),
    iptables: execIptables({ family: 'IPv4' }),
    sysctl: procSysctlLayer(),
  };
  const result: Record<string, unknown> = { services: SYNC_SIZE, endpointsPerService: ENDPOINTS };
  try {
    // Baseline: the same virtual servers and real servers with bare library calls.
    const planned = new IpvsPlanner().plan(
      snapshotFromObjects({ family: 'IPv4', nodeName: NODE, services, endpointSlices: slices }),
    );
    const t0 = performance.now();
    await Promise.all(
      [...planned.virtualServers.values()].map(async (vs) => {
        const key = { protocol: vs.protocol, address: vs.address, port: vs.port };
        await ipvs.addService({ ...key, scheduler: vs.scheduler });
        await Promise.all([...vs.realServers.values()].map((rs) => ipvs.addDestination(key, rs)));
      }),
    );
    const rawMs = performance.now() - t0;
    // Baseline for one change: the two bare calls the applier's diff comes down to when an
    // endpoint moves (add the new real server, drain the old one at weight 0).
    const rawChange: number[] = [];
    const vsList = [...planned.virtualServers.values()];
    for (let c = 1; c <= CHANGES; c++) {
      const vs = vsList[c % vsList.length]!;
      const key = { protocol: vs.protocol, address: vs.address, port: vs.port };
      const old = [...vs.realServers.values()][0]!;
      const t = performance.now();
      await ipvs.addDestination(key, { address: `10.255.${c >> 8}.${c & 255}`, port: old.port, weight: 1 });
      await ipvs.updateDestination(key, { ...old, weight: 0 });
      rawChange.push(performance.now() - t);
    }
    for (const vs of planned.virtualServers.values())
      await ipvs.deleteService({ protocol: vs.protocol, address: vs.address, port: vs.port });

    // Full sync from an empty kernel: plan + ipset batch + iptables restore + IPVS + addresses.
    const state = new ProxyState('IPv4', NODE);
    for (const s of services) state.onService(undefined, s);
    for (const s of slices) state.onEndpointSlice(s, false);
    const planner = new IpvsPlanner();
    const applier = new IpvsApplier({ ...kernel, family: 'IPv4', graceful: new GracefulTermination() });
    const t1 = performance.now();
    await applier.apply(planner.plan(state.snapshot()), Date.now());
    const fullMs = performance.now() - t1;
    // One EndpointSlice change until the kernel holds it (event → snapshot → plan → apply).
    const latencies: number[] = [];
    for (let c = 1; c <= CHANGES; c++) {
      const t = performance.now();
      state.onEndpointSlice(sliceFor(c % SYNC_SIZE, c), false);
      await applier.apply(planner.plan(state.snapshot()), Date.now());
      latencies.push(performance.now() - t);
    }
    const changeMs = median(latencies);
    result.rawIpvsMs = round(rawMs);
    result.rawOneChangeMedianMs = round(median(rawChange));
    result.fullSyncMs = round(fullMs);
    result.oneEndpointChangeMedianMs = round(changeMs);
    result.oneEndpointChangeMaxMs = round(Math.max(...latencies));
    result.ratioFullSyncToRawIpvs = round(fullMs / rawMs);
    result.ratioOneChangeToFullSync = round(changeMs / fullMs, 4);
    result.ratioOneChangeToRawCalls = round(changeMs / median(rawChange));
  } finally {
    ipvs.close();
  }
  process.stdout.write(`IPVS-BENCH ${JSON.stringify(result)}\n`);
}

async function vmPart(size: number): Promise<Record<string, unknown>> {
  const { runInVm } = await import('../../../tools/vm/vm');
  const { bundleEntry } = await import('../../../tools/bundle/bundle-entry');
  const bundle = bundleEntry(fileURLToPath(import.meta.url));
  try {
    const modules =
      'ip_vs ip_vs_rr xt_ipvs dummy ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_bitmap_port xt_set xt_comment xt_addrtype xt_mark xt_conntrack xt_MASQUERADE xt_physdev nft_compat';
    const r = await runInVm({
      command: 'sh',
      args: ['-c', `modprobe -a ${modules} && exec node ${bundle.file}`],
      cwd: repoRoot,
      env: {
        KP_IPVS_BENCH_IN_VM: '1',
        KP_IPVS_SYNC_SIZE: String(size),
        KP_IPVS_CHANGES: String(CHANGES),
      },
      timeoutMs: 540_000,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('IPVS-BENCH '));
    if (!line) throw new Error(`no result from the VM (exit ${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
    return { ...JSON.parse(line.slice('IPVS-BENCH '.length)), vmDurationMs: Math.round(r.durationMs) };
  } finally {
    bundle.dispose();
  }
}

async function main() {
  if (process.env.KP_IPVS_BENCH_IN_VM === '1') return inVm();
  const loadAtStart = loadavg();
  const plan = await planning();
  const vm: Record<string, unknown> = {};
  for (const size of SYNC_SIZES) {
    vm[`${size}`] = await vmPart(size);
    console.log(`vm n=${size}`, JSON.stringify(vm[`${size}`]));
  }
  const dir = join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kube-proxy-ipvs.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        note: 'VM numbers are under TCG emulation (no KVM); compare ratios, not absolute times',
        loadavgAtStart: loadAtStart.map((x) => round(x)),
        loadavgAtEnd: loadavg().map((x) => round(x)),
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
