// Issue #54's stage harness: the iptables full sync of a large cluster (default 5,000 Services x
// 50 endpoints, the daemon's own payload from renderIptablesRuleset) written two ways into a
// fresh network namespace each: iptables-nft-restore --noflush of the payload with its `-S`
// widening (the floor the daemon pays today) and the netlink writer of @nodeagent/netfilter (nft-wire: one nf_tables transaction,
// bench/iptables-nft-wire-leg.ts in its own process). Runs alternate which way goes first; the
// first run also checks that iptables-save prints the same text for both namespaces.
// Knobs: KP_NFTWIRE_SERVICES, KP_NFTWIRE_ENDPOINTS, KP_NFTWIRE_RUNS (3), KP_NFTWIRE_FLOOR=0
// (skip the tool), KP_NFTWIRE_PATH=model (the writer parses into the model first, see the leg). Needs root (namespaces only).
// Run: npx tsx --conditions=@nodeagent/source bench/iptables-nft-wire.bench.ts (in packages/kube-proxy)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { widenNftCache } from '@nodeagent/netfilter/iptables';
import { benchIptablesRuleset } from './iptables-bench-ruleset';

const SERVICES = Number(process.env.KP_NFTWIRE_SERVICES ?? 5000);
const ENDPOINTS = Number(process.env.KP_NFTWIRE_ENDPOINTS ?? 50);
const RUNS = Number(process.env.KP_NFTWIRE_RUNS ?? 3);
const FLOOR = process.env.KP_NFTWIRE_FLOOR !== '0';

/** User + system CPU ms of this process's waited-for children (/proc/self/stat, 100 ticks/s). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

function withNetns<T>(work: (path: string) => T): T {
  const name = `na-nftwire-${process.pid}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return work(`/run/netns/${name}`);
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

/** iptables-save of the namespace, without its dated comment lines, as a digest and line count. */
function saveDigest(path: string): { sha256: string; lines: number } {
  const text = execFileSync('nsenter', [`--net=${path}`, '--', 'iptables-nft-save'], { maxBuffer: 1 << 30 })
    .toString()
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  return { sha256: createHash('sha256').update(text).digest('hex'), lines: text.split('\n').length };
}

function toolLeg(path: string, payloadFile: string) {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  // GNU time reports the tool's peak RSS: memory the node pays for a full sync outside the
  // daemon's own RSS, to set beside the writer's.
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss-kb=%M',
      'nsenter',
      `--net=${path}`,
      '--',
      'iptables-nft-restore',
      '--noflush',
      payloadFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (r.status !== 0) throw new Error(`iptables-nft-restore failed: ${r.stderr}`);
  const maxRssKb = Number(/maxrss-kb=(\d+)/.exec(r.stderr.toString())?.[1] ?? Number.NaN);
  return { wallMs: performance.now() - t0, cpuMs: childrenCpuMs() - cpu0, peakRssMb: maxRssKb / 1024 };
}

function netlinkLeg(path: string, payloadFile: string) {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(
    'nsenter',
    [
      `--net=${path}`,
      '--',
      process.execPath,
      '--conditions=@nodeagent/source',
      '--import',
      'tsx',
      join(import.meta.dirname, 'iptables-nft-wire-leg.ts'),
      payloadFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`netlink leg failed: ${r.stderr}`);
  const inner = JSON.parse(r.stdout.toString().trim().split('\n').pop() as string);
  return { wallMs: performance.now() - t0, cpuMs: childrenCpuMs() - cpu0, ...inner };
}

const t0 = performance.now();
const prepared = benchIptablesRuleset(SERVICES, ENDPOINTS);
const dir = mkdtempSync(join(tmpdir(), 'na-nftwire-'));
const payloadFile = join(dir, 'payload');
writeFileSync(payloadFile, prepared.payload);
// The tool gets the payload as the daemon's IptablesClient sends it: `-S` after the header of a
// big section, so that iptables-nft caches the whole table (without it, well over 3 minutes).
const toolPayloadFile = join(dir, 'payload-widened');
writeFileSync(toolPayloadFile, widenNftCache(prepared.payload).payload);
console.log(
  `${SERVICES} x ${ENDPOINTS}: payload ${(prepared.payload.length / 1e6).toFixed(1)} MB, rules nat ${prepared.ruleCounts.nat} filter ${prepared.ruleCounts.filter}, rendered in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const results: { tool: ReturnType<typeof toolLeg>[]; netlink: ReturnType<typeof netlinkLeg>[] } = {
  tool: [],
  netlink: [],
};
try {
  for (let run = 0; run < RUNS; run++) {
    const legs = run % 2 === 0 ? (['netlink', 'tool'] as const) : (['tool', 'netlink'] as const);
    const digests: Record<string, string> = {};
    for (const leg of legs) {
      if (leg === 'tool' && !FLOOR) continue;
      withNetns((path) => {
        const load = loadavg()[0]?.toFixed(2);
        if (leg === 'tool') {
          const r = toolLeg(path, toolPayloadFile);
          results.tool.push(r);
          console.log(
            `run ${run + 1} iptables-nft-restore: ${(r.wallMs / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} CPU-s, peak RSS ${r.peakRssMb.toFixed(0)} MB (load ${load})`,
          );
        } else {
          const r = netlinkLeg(path, payloadFile);
          results.netlink.push(r);
          console.log(
            `run ${run + 1} netlink writer (${r.path}): ${(r.wallMs / 1000).toFixed(2)} s wall (process), ${(r.cpuMs / 1000).toFixed(2)} CPU-s; parse ${(r.parseMs / 1000).toFixed(2)} s, ${r.path === 'text' ? 'read+encode' : 'encode'} ${(r.encodeMs / 1000).toFixed(2)} s, sendmsg+commit ${(r.commitMs / 1000).toFixed(2)} s; CPU: parse ${(r.parseCpuMs / 1000).toFixed(2)} s, encode+commit user ${(r.writeUserMs / 1000).toFixed(2)} s sys ${(r.writeSystemMs / 1000).toFixed(2)} s; batch ${(r.batchBytes / 1e6).toFixed(0)} MB, ${r.rules} rules, ${r.chains} chains, peak RSS ${r.peakRssMb.toFixed(0)} MB (load ${load})`,
          );
        }
        if (run === 0) {
          const d = saveDigest(path);
          digests[leg] = d.sha256;
          console.log(`  iptables-save: ${d.lines} lines, sha256 ${d.sha256.slice(0, 16)}`);
        }
      });
    }
    if (run === 0 && FLOOR && digests.tool !== digests.netlink)
      throw new Error('iptables-save differs between the two ways');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const summary = (xs: { wallMs: number; cpuMs: number }[]) =>
  xs.length
    ? `median ${(median(xs.map((x) => x.wallMs)) / 1000).toFixed(2)} s wall, ${(median(xs.map((x) => x.cpuMs)) / 1000).toFixed(2)} CPU-s over ${xs.length} runs`
    : 'not run';
console.log(`iptables-nft-restore: ${summary(results.tool)}`);
console.log(`netlink writer: ${summary(results.netlink)}`);
