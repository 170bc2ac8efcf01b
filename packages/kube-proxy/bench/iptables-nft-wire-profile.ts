// Issue #54: the netlink writer's CPU stages without a kernel (parse of the restore text, encode
// of the batch; or both at once from the text), for --cpu-prof. Knobs: KP_NFTWIRE_SERVICES
// (1000), KP_NFTWIRE_ENDPOINTS (50), KP_NFTWIRE_RUNS (3), KP_NFTWIRE_PATH (model,text).
// Run: npx tsx --conditions=@nodeagent/source bench/iptables-nft-wire-profile.ts (in packages/kube-proxy)
import { parseSave } from '@nodeagent/netfilter/iptables';
import { encodeRestoreTextBatch } from '../../netfilter/src/iptables/nft-wire/restore-text-batch';
import { encodeIptablesNftBatch } from '../../netfilter/src/iptables/nft-wire/ruleset-batch';
import { benchIptablesRuleset } from './iptables-bench-ruleset';

const SERVICES = Number(process.env.KP_NFTWIRE_SERVICES ?? 1000);
const ENDPOINTS = Number(process.env.KP_NFTWIRE_ENDPOINTS ?? 50);
const prepared = benchIptablesRuleset(SERVICES, ENDPOINTS);
const RUNS = Number(process.env.KP_NFTWIRE_RUNS ?? 3);
const PATHS = (process.env.KP_NFTWIRE_PATH ?? 'model,text').split(',');
for (let run = 0; PATHS.includes('model') && run < RUNS; run++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ruleset = parseSave(prepared.payload, 'ipv4');
  const t1 = performance.now();
  const { batch, stats } = encodeIptablesNftBatch(ruleset);
  const t2 = performance.now();
  const c = process.cpuUsage(c0);
  console.log(
    `model run ${run + 1}: parse ${(t1 - t0).toFixed(0)} ms, encode ${(t2 - t1).toFixed(0)} ms, CPU ${((c.user + c.system) / 1000).toFixed(0)} ms, ${stats.rules} rules, ${batch.byteLength} bytes`,
  );
  batch.release();
}
for (let run = 0; PATHS.includes('text') && run < RUNS; run++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const { batch, stats } = encodeRestoreTextBatch([prepared.payload], 'ipv4');
  console.log(
    `text run ${run + 1}: read+encode ${(performance.now() - t0).toFixed(0)} ms, CPU ${((process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000).toFixed(0)} ms, ${stats.rules} rules, ${batch.byteLength} bytes`,
  );
  batch.release();
}
