// The first full nftables sync of the scale bench's cluster (issue #54), in-process and stage by
// stage, in a throwaway network namespace: the proxy state filled from the same Services and
// EndpointSlices, then NftablesRuleset.update (the model → the table), and the netlink client's
// runTable (encode: the structure and every element into one batch; send: sendmsg, inside which
// the kernel checks and commits the batch, and the replies). CPU and wall ms of each, and
// `sendAgainMs`: the very same datagram sent again after the table was deleted, a floor for the
// kernel's own share (no JS between). Not the executable: a tool to find where the sync's time
// goes; the executable's figures come from scale.bench.ts.
//
//   tsx --conditions=@nodeagent/source bench/first-sync-stages.ts [services] [endpoints] [runs]
//
// FIRST_SYNC_PROFILE=<file>: a .cpuprofile of the first run's update + runTable.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { ProxyState } from '@nodeagent/kube-proxy';
import { NFTABLES_TABLE, NftablesRuleset, nftLocalDetector } from '@nodeagent/kube-proxy/nftables';
import { NetlinkNftablesClient, NftTransaction } from '@nodeagent/netfilter/nftables';
import {
  BENCH_NAMESPACE,
  CLUSTER_CIDR,
  endpointSlice,
  initialAddresses,
  NODE_NAME,
  serviceSpec,
} from './scale-cluster';

const [services = 5000, endpoints = 50, runs = 3] = process.argv.slice(2).map(Number);
const round = (x: number) => Math.round(x * 10) / 10;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function fillState(): ProxyState {
  const state = new ProxyState('IPv4', NODE_NAME);
  for (let i = 0; i < services; i++) {
    state.onService(undefined, {
      metadata: { name: `svc-${i}`, namespace: BENCH_NAMESPACE },
      spec: serviceSpec(i),
    } as never);
    state.onEndpointSlice(endpointSlice(i, initialAddresses(i, endpoints)) as never, false);
  }
  return state;
}

async function oneRun(profile: string | undefined) {
  const state = fillState();
  const client = new NetlinkNftablesClient({ family: 'ip', table: NFTABLES_TABLE });
  const o0 = performance.now();
  await (process.env.FIRST_SYNC_NO_PREPARE ? client.exists() : client.prepare()); // socket (and FFI) opened outside the sync
  const openMs = round(performance.now() - o0);
  const ruleset = new NftablesRuleset('IPv4', {
    localDetector: nftLocalDetector({ cidr: CLUSTER_CIDR, ipv6: false }),
  });
  const profiler = profile ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = cpuMs();
  const w0 = performance.now();
  const snapshot = state.snapshot();
  const c1 = cpuMs();
  const w1 = performance.now();
  ruleset.update(snapshot);
  const c2 = cpuMs();
  const w2 = performance.now();
  const f2 = process.resourceUsage().minorPageFault;
  await client.runTable(ruleset.table);
  const c3 = cpuMs();
  const w3 = performance.now();
  const f3 = process.resourceUsage().minorPageFault;
  ruleset.commit();
  if (profiler) {
    const { profile: p } = await profiler.post('Profiler.stop');
    writeFileSync(profile as string, JSON.stringify(p));
    profiler.disconnect();
  }
  const batch = client.lastBatch!;
  // Again into an emptied table: the encoder warm, the kernel's share on its own.
  const del = new NftTransaction();
  del.delete({ kind: 'table' });
  await client.run(del);
  const again = await sendAgain(client, ruleset);
  await client.close();
  return {
    openMs,
    snapshot: { cpuMs: round(c1 - c0), wallMs: round(w1 - w0) },
    update: { cpuMs: round(c2 - c1), wallMs: round(w2 - w1) },
    runTable: { cpuMs: round(c3 - c2), wallMs: round(w3 - w2) },
    encode: { cpuMs: round(batch.encodeCpuMs), wallMs: round(batch.encodeMs) },
    send: { wallMs: round(batch.sendMs) },
    sendAgain: again,
    minorFaults: { toUpdate: f2 - f0, runTable: f3 - f2 },
    messages: batch.messages,
    bytes: batch.bytes,
  };
}

/** The same table written again into an emptied namespace: warm encode, and the kernel's share. */
async function sendAgain(client: NetlinkNftablesClient, ruleset: NftablesRuleset) {
  const cpu = cpuMs();
  await client.runTable(ruleset.table);
  const b = client.lastBatch!;
  return { cpuMs: round(cpuMs() - cpu), encodeMs: round(b.encodeMs), sendMs: round(b.sendMs) };
}

if (process.env.FIRST_SYNC_IN_NAMESPACE) {
  const out = [];
  for (let r = 0; r < runs; r++) out.push(await oneRun(r === 0 ? process.env.FIRST_SYNC_PROFILE : undefined));
  console.log(JSON.stringify(out));
  process.exit(0);
}

const ns = `na-B-first-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
execFileSync('ip', ['netns', 'add', ns]);
try {
  const load = loadavg()[0];
  const r = spawnSync(
    'ip',
    ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)],
    {
      env: { ...process.env, FIRST_SYNC_IN_NAMESPACE: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const rows = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]');
  console.log(JSON.stringify({ services, endpoints, load, rows }, null, 1));
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
}
