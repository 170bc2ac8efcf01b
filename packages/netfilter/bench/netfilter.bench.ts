// `npm run bench -w @nodeagent/netfilter` (root: it creates network namespaces).
// 1. Render the kube-proxy-shaped iptables ruleset for 10k Services × 10 endpoints: time and
//    size, against a naive `+=` renderer in the same process.
// 2. Apply it with IptablesClient in a fresh namespace, against the floor of piping the same
//    payload to iptables-restore by hand (target ≤ 1.2×); at 1k Services also upstream's plain
//    `--noflush` path, which the cache widening replaces.
// 3. The same Services as an nftables transaction: render and apply; then one-element changes.
// Results: /work/main/bench-results/netfilter.json
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, type Netns } from '@nodeagent/testing';
import { Bench } from 'tinybench';
import {
  IptablesClient,
  iptablesCommands,
  NftablesClient,
  NftTransaction,
  netnsRunner,
  type Ruleset,
} from '../src/index';
import {
  checkPayloadReferences,
  payloadStats,
  renderRestore,
  renderRuleArgs,
  validateRuleset,
  widenNftCache,
} from '../src/iptables/index';
import { endpointIp, kubeIptablesRuleset, kubeNftTransaction, NFT_TABLE, serviceIp } from './kube-rulesets';

const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, '..', '..', '..', 'bench-results', 'netfilter.json');
const ENDPOINTS = 10;
const WAIT = ['-w', '5', '-W', '100000'];

const seconds = (ms: number) => Math.round(ms) / 1000;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** The baseline renderer: the same text built by repeated string concatenation. */
function naiveRender(ruleset: Ruleset): string {
  let out = '';
  for (const table of ruleset.tables) {
    out += `*${table.name}\n`;
    for (const chain of table.chains) out += `:${chain.name} - [0:0]\n`;
    for (const chain of table.chains)
      for (const rule of chain.rules) out += `-A ${chain.name} ${renderRuleArgs(rule)}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** Pipe a payload into a program inside a namespace, as a person would; resolves with ms. */
function pipeByHand(netns: Netns, file: string, args: string[], payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('nsenter', [`--net=${netns.path}`, '--', file, ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`${file}: ${stderr}`)),
    );
    child.stdin.end(payload);
  });
}

async function inFreshNetns<T>(fn: (netns: Netns) => Promise<T>): Promise<T> {
  const netns = await createNetns({ purpose: 'nf-bench' });
  try {
    return await fn(netns);
  } finally {
    await netns.delete();
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function renderBench(ruleset: Ruleset) {
  let size = 0;
  const bench = new Bench({ iterations: 3, warmupIterations: 1, time: 0 });
  // Byte length forces a flat string, as writing it to a pipe does (a `+=` rope is never
  // flattened by .length alone).
  bench.add('naive += renderer', () => {
    size = Buffer.byteLength(naiveRender(ruleset));
  });
  bench.add('renderRestore (RestoreWriter)', () => {
    size = Buffer.byteLength(renderRestore(ruleset));
  });
  await bench.run();
  const [naive, writer] = bench.tasks.map((t) => (t.result as { latency: { mean: number } }).latency.mean);
  const payload = renderRestore(ruleset);
  const stats = payloadStats(payload);
  const fullValidateMs = await timed(async () => validateRuleset(ruleset));
  const referenceCheckMs = await timed(async () => checkPayloadReferences(payload));
  return {
    fullValidateMs: Math.round(fullValidateMs),
    referenceCheckMs: Math.round(referenceCheckMs),
    renderMs: Math.round(writer!),
    naiveRenderMs: Math.round(naive!),
    ratioToNaive: ratio(writer!, naive!),
    payloadBytes: Buffer.byteLength(payload),
    payloadLines: payload.split('\n').length - 1,
    chains: stats.chains,
    rules: stats.rules,
    sizeCheck: size === Buffer.byteLength(payload),
  };
}

async function iptablesApply(services: number, withUpstreamPath: boolean) {
  const ruleset = kubeIptablesRuleset(services, ENDPOINTS);
  const payload = renderRestore(ruleset);
  const { restore } = iptablesCommands('nft', 'ipv4');
  const result: Record<string, unknown> = { services, rules: payloadStats(payload).rules };
  // Our applier given the same pre-rendered payload: reference check + widen + iptables-restore.
  result.applierSeconds = seconds(
    await inFreshNetns((netns) =>
      timed(() => new IptablesClient({ runner: netnsRunner(netns.path), backend: 'nft' }).restore(payload)),
    ),
  );
  // And from the model (render included).
  result.applierFromModelSeconds = seconds(
    await inFreshNetns((netns) =>
      timed(() => new IptablesClient({ runner: netnsRunner(netns.path), backend: 'nft' }).restore(ruleset)),
    ),
  );
  // Floor: the same payload the applier sends, piped by hand with the same flags.
  const widened = widenNftCache(payload).payload;
  result.floorSamePayloadSeconds = seconds(
    await inFreshNetns((netns) => pipeByHand(netns, restore, ['--noflush', ...WAIT], widened)),
  );
  result.applierToFloorRatio = ratio(
    result.applierSeconds as number,
    result.floorSamePayloadSeconds as number,
  );
  // Plain restore (flushes whole tables: not usable on a shared node, but the lower bound).
  result.plainRestoreSeconds = seconds(
    await inFreshNetns((netns) => pipeByHand(netns, restore, [], payload)),
  );
  if (withUpstreamPath) {
    // Upstream's path: the unmodified payload with --noflush.
    result.upstreamNoflushSeconds = seconds(
      await inFreshNetns((netns) => pipeByHand(netns, restore, ['--noflush', ...WAIT], payload)),
    );
    result.applierToUpstreamRatio = ratio(
      result.applierSeconds as number,
      result.upstreamNoflushSeconds as number,
    );
  }
  return result;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function nftablesBench(services: number, changes: number) {
  const buckets = ENDPOINTS;
  return inFreshNetns(async (netns) => {
    const client = new NftablesClient({ family: 'ip', table: NFT_TABLE, runner: netnsRunner(netns.path) });
    let tx = new NftTransaction();
    const renderMs = await timed(async () => {
      tx = kubeNftTransaction(services, ENDPOINTS, buckets);
      client.render(tx);
    });
    const script = client.render(tx);
    const applyMs = await timed(() => client.runScript(script));
    // One-element changes: repoint one bucket of one Service to another endpoint, the way an
    // endpoint change lands (delete + add of one map element, one transaction each).
    const samples: number[] = [];
    for (let n = 0; n < changes; n++) {
      const i = n % services;
      const key = [serviceIp(i), 'tcp', '80', '0'];
      const change = new NftTransaction()
        .delete({ kind: 'element', container: 'service-backends', key })
        .add({
          kind: 'element',
          container: 'service-backends',
          key,
          value: [endpointIp(i, (n + 1) % ENDPOINTS, ENDPOINTS), '8080'],
        });
      samples.push(await timed(() => client.run(change)));
    }
    // And adding/removing one Service VIP (one set element).
    const vipSamples: number[] = [];
    for (let n = 0; n < changes; n++) {
      const element = {
        kind: 'element' as const,
        container: 'service-ips',
        key: ['172.31.0.1', 'tcp', '80'],
      };
      const change = n % 2 === 0 ? new NftTransaction().add(element) : new NftTransaction().delete(element);
      vipSamples.push(await timed(() => client.run(change)));
    }
    return {
      services,
      elements: services * (buckets + 1),
      scriptBytes: Buffer.byteLength(script),
      renderMs: Math.round(renderMs),
      applySeconds: seconds(applyMs),
      elementChange: {
        samples: changes,
        p50Ms: Math.round(percentile(samples, 50)),
        p99Ms: Math.round(percentile(samples, 99)),
      },
      vipElementChange: {
        samples: changes,
        p50Ms: Math.round(percentile(vipSamples, 50)),
        p99Ms: Math.round(percentile(vipSamples, 99)),
      },
    };
  });
}

async function main() {
  const started = Date.now();
  console.log('render 10k Services × 10 endpoints …');
  const render = await renderBench(kubeIptablesRuleset(10_000, ENDPOINTS));
  console.log(render);
  console.log('iptables apply, 1k Services …');
  const apply1k = await iptablesApply(1_000, true);
  console.log(apply1k);
  console.log('iptables apply, 10k Services …');
  const apply10k = await iptablesApply(10_000, false);
  console.log(apply10k);
  console.log('nftables, 10k Services …');
  const nft10k = await nftablesBench(10_000, 50);
  console.log(nft10k);
  const results = {
    package: '@nodeagent/netfilter',
    date: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length },
    iptablesRender10k: render,
    iptablesApply1k: apply1k,
    iptablesApply10k: apply10k,
    nftables10k: nft10k,
    totalSeconds: seconds(Date.now() - started),
  };
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results in ${resultsFile}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
