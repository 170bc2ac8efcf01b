/**
 * Runs INSIDE the micro-VM (see ipvs.bench.ts): N services × M destinations created, listed and
 * deleted through @nodeagent/ipvs, against `ipvsadm --restore` / `ipvsadm -Ln` of the same set,
 * measured with tinybench in the same process. Prints `BENCH-RESULT <json>`.
 */
import { execFileSync } from 'node:child_process';
import { Bench } from 'tinybench';
import { type Ipvs, openIpvs } from '../src/index';

const services = Number(process.env.IPVS_BENCH_SERVICES ?? 10_000);
const dests = Number(process.env.IPVS_BENCH_DESTS ?? 10);
const iterations = Number(process.env.IPVS_BENCH_ITERATIONS ?? 1);

const vip = (i: number) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const rip = (j: number) => `10.250.${j >> 8}.${(j & 255) + 1}`;

const createScript: string[] = [];
const deleteScript: string[] = [];
for (let i = 0; i < services; i++) {
  createScript.push(`-A -t ${vip(i)}:80 -s rr`);
  for (let j = 0; j < dests; j++) createScript.push(`-a -t ${vip(i)}:80 -r ${rip(j)}:8080 -m -w 1`);
  deleteScript.push(`-D -t ${vip(i)}:80`);
}
const createInput = `${createScript.join('\n')}\n`;
const deleteInput = `${deleteScript.join('\n')}\n`;

const ipvsadm = (args: string[], input?: string) =>
  execFileSync('ipvsadm', args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });

async function createAll(ipvs: Ipvs): Promise<void> {
  // Issued without awaiting each: one socket, requests pipelined, the kernel applies them in order.
  const pending: Promise<void>[] = [];
  for (let i = 0; i < services; i++) {
    const key = { protocol: 'tcp', address: vip(i), port: 80 } as const;
    pending.push(ipvs.addService({ ...key, scheduler: 'rr' }));
    for (let j = 0; j < dests; j++)
      pending.push(ipvs.addDestination(key, { address: rip(j), port: 8080, weight: 1 }));
  }
  await Promise.all(pending);
}

async function listAll(ipvs: Ipvs): Promise<number> {
  let n = 0;
  for (const svc of await ipvs.listServices()) {
    n += (await ipvs.listDestinations({ protocol: svc.protocol!, address: svc.address!, port: svc.port! }))
      .length;
  }
  return n;
}

async function deleteAll(ipvs: Ipvs): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < services; i++)
    pending.push(ipvs.deleteService({ protocol: 'tcp', address: vip(i), port: 80 }));
  await Promise.all(pending);
}

function countIpvsadm(): { services: number; dests: number } {
  const lines = ipvsadm(['-Ln']).split('\n');
  return {
    services: lines.filter((l) => l.startsWith('TCP')).length,
    dests: lines.filter((l) => l.startsWith('  ->') && !l.includes('RemoteAddress')).length,
  };
}

async function main() {
  execFileSync('modprobe', ['ip_vs']);
  execFileSync('modprobe', ['ip_vs_rr']);
  const ipvs = await openIpvs();
  const flush = () => ipvs.flush();
  const checks: Record<string, unknown> = {};
  const bench = new Bench({ iterations, time: 0, warmup: false });
  let listed = 0;
  bench
    .add('ipvsadm --restore: create', () => void ipvsadm(['--restore'], createInput), {
      afterEach: async () => {
        checks.ipvsadmCreated ??= countIpvsadm();
        await flush();
      },
    })
    .add('@nodeagent/ipvs: create', () => createAll(ipvs), {
      afterEach: async () => {
        checks.netlinkCreated ??= countIpvsadm();
        await flush();
      },
    })
    .add('ipvsadm -Ln: list', () => void ipvsadm(['-Ln']), {
      beforeAll: () => createAll(ipvs),
      afterAll: flush,
    })
    .add(
      '@nodeagent/ipvs: list',
      async () => {
        listed = await listAll(ipvs);
      },
      { beforeAll: () => createAll(ipvs), afterAll: flush },
    )
    .add('ipvsadm --restore: delete', () => void ipvsadm(['--restore'], deleteInput), {
      beforeEach: () => createAll(ipvs),
    })
    .add('@nodeagent/ipvs: delete', () => deleteAll(ipvs), {
      beforeEach: () => createAll(ipvs),
      afterEach: () => {
        checks.afterDelete ??= countIpvsadm();
      },
    });
  // Progress on stderr, which the host streams while the VM runs.
  bench.addEventListener('cycle', (e) => {
    const t = e.task;
    if (t)
      process.stderr.write(
        `${t.name}: ${t.result.state === 'completed' ? `${t.result.latency.mean.toFixed(0)} ms` : t.result.state}\n`,
      );
  });
  await bench.run();
  ipvs.close();
  checks.netlinkListedDests = listed;

  const ms = Object.fromEntries(
    bench.tasks.map((t) => [t.name, t.result.state === 'completed' ? t.result.latency.mean : Number.NaN]),
  );
  const phase = (p: string, base: string) => {
    const ours = ms[`@nodeagent/ipvs: ${p}`]!;
    const theirs = ms[base]!;
    return { oursMs: ours, ipvsadmMs: theirs, ratio: ours / theirs };
  };
  const create = phase('create', 'ipvsadm --restore: create');
  const list = phase('list', 'ipvsadm -Ln: list');
  const del = phase('delete', 'ipvsadm --restore: delete');
  const oursTotal = create.oursMs + list.oursMs + del.oursMs;
  const theirsTotal = create.ipvsadmMs + list.ipvsadmMs + del.ipvsadmMs;
  const result = {
    workload: { services, destinationsPerService: dests, iterations },
    phases: { create, list, delete: del },
    total: { oursMs: oursTotal, ipvsadmMs: theirsTotal, ratio: oursTotal / theirsTotal, target: 1.2 },
    checks,
  };
  process.stdout.write(`BENCH-RESULT ${JSON.stringify(result)}\n`);
}

await main();
