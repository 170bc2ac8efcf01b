// Helpers for ipvs.bench.ts's part inside the micro-VM: the floors (each kernel part written by
// its own tool or by bare @nodeagent/ipvs calls), per-layer busy time of a sync, and the check
// that the kernel holds what the plan says.
import { spawn } from 'node:child_process';
import { renderRestorePayload } from '../src/iptables/index';
import { type IpvsPlan, type IpvsTable, renderIpsetRestore } from '../src/ipvs/index';

export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The q-quantile (0..1) of xs, nearest rank. */
export const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

/** Runs argv with `input` on stdin; resolves with stdout, rejects on a non-zero exit. */
export function run(argv: readonly string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    p.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(0, 500)}`)),
    );
    p.stdin.end(input);
  });
}

/** A progress line on stderr (streamed out of the VM while it runs). */
export const progress = (what: string, data: unknown) =>
  process.stderr.write(`[${new Date().toISOString()}] ${what} ${JSON.stringify(data)}\n`);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return round(performance.now() - t);
}

/** Every virtual server and real server of the plan through bare library calls, concurrently. */
export async function writeBareIpvs(ipvs: IpvsTable, plan: IpvsPlan): Promise<void> {
  await Promise.all(
    [...plan.virtualServers.values()].map(async (vs) => {
      const key = { protocol: vs.protocol, address: vs.address, port: vs.port };
      await ipvs.addService({ ...key, scheduler: vs.scheduler });
      await Promise.all([...vs.realServers.values()].map((rs) => ipvs.addDestination(key, rs)));
    }),
  );
}

/**
 * The floor of a full sync: the plan's ipsets through `ipset restore`, its iptables payload
 * through `iptables-restore --noflush`, its kube-ipvs0 addresses through `ip -batch` and its
 * IPVS table through bare library calls, each timed alone. Run in a network namespace of its
 * own: IPVS keeps deleted real servers in a per-namespace trash list for minutes and scans it
 * on every add, so cleaning up after the floor made the sync measured next 3-10x slower.
 */
export async function floors(ipvs: IpvsTable, plan: IpvsPlan): Promise<Record<string, number>> {
  const ipsetMs = await timed(() =>
    run(['ipset', 'restore', '-exist'], renderIpsetRestore(plan.ipsets.values(), undefined)),
  );
  const iptablesMs = await timed(() =>
    run(['iptables-restore', '--noflush'], renderRestorePayload(plan.iptables)),
  );
  await run(['ip', 'link', 'add', 'kube-ipvs0', 'type', 'dummy']);
  const lines = [...plan.boundAddresses].map((a) => `addr add ${a}/32 dev kube-ipvs0\n`).join('');
  const addressesMs = await timed(() => run(['ip', '-batch', '-'], lines));
  const ipvsMs = await timed(() => writeBareIpvs(ipvs, plan));
  const out = {
    ipsetMs,
    iptablesMs,
    addressesMs,
    ipvsMs,
    totalMs: round(ipsetMs + iptablesMs + addressesMs + ipvsMs),
  };
  progress('floor', out);
  return out;
}

/** Busy wall time per layer: intervals when at least one of its calls was pending, merged. */
export class BusyClock {
  readonly ms: Record<string, number> = {};
  private readonly active: Record<string, { n: number; since: number }> = {};

  /** `layer` with every method timed under `name`. */
  wrap<T extends object>(name: string, layer: T): T {
    this.ms[name] ??= 0;
    this.active[name] ??= { n: 0, since: 0 };
    const a = this.active[name]!;
    return new Proxy(layer, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (a.n++ === 0) a.since = performance.now();
          const done = () => {
            if (--a.n === 0) this.ms[name]! += performance.now() - a.since;
          };
          const r = v.apply(target, args);
          if (r instanceof Promise) return r.finally(done);
          done();
          return r;
        };
      },
    });
  }

  /** The totals so far, rounded, and reset. */
  take(): Record<string, number> {
    const out = Object.fromEntries(Object.entries(this.ms).map(([k, v]) => [k, round(v)]));
    for (const k of Object.keys(this.ms)) this.ms[k] = 0;
    return out;
  }
}

/** What the kernel holds against the plan (draining real servers sit at weight 0). */
export async function kernelAgainstPlan(ipvs: IpvsTable, plan: IpvsPlan, draining: number) {
  let kernelRealServers = 0;
  let kernelWeighted = 0;
  const services = await ipvs.listServices();
  for (const s of services) {
    const dests = await ipvs.listDestinations({ protocol: s.protocol!, address: s.address!, port: s.port! });
    kernelRealServers += dests.length;
    kernelWeighted += dests.filter((d) => d.weight > 0).length;
  }
  let planRealServers = 0;
  for (const vs of plan.virtualServers.values()) planRealServers += vs.realServers.size;
  const addresses = (await run(['ip', '-o', 'addr', 'show', 'dev', 'kube-ipvs0']))
    .split('\n')
    .filter((l) => l.includes(' inet ')).length;
  const result = {
    planVirtualServers: plan.virtualServers.size,
    kernelVirtualServers: services.length,
    planRealServers,
    kernelRealServersWeighted: kernelWeighted,
    kernelRealServersDraining: kernelRealServers - kernelWeighted,
    draining,
    planAddresses: plan.boundAddresses.size,
    kernelAddresses: addresses,
  };
  const ok =
    result.planVirtualServers === result.kernelVirtualServers &&
    result.planRealServers === result.kernelRealServersWeighted &&
    result.kernelRealServersDraining === draining &&
    result.planAddresses === result.kernelAddresses;
  return { ...result, ok };
}
