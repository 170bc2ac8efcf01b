/**
 * `npm run bench`: boots the micro-VM (tools/vm) and runs vm-workload.ts there — this machine's
 * kernel has no IPVS. Writes bench-results/ipvs.json at the repository root.
 * Size: IPVS_BENCH_SERVICES (10000) × IPVS_BENCH_DESTS (10), IPVS_BENCH_ITERATIONS (1);
 * IPVS_BENCH_TIMEOUT_MS bounds the whole VM run (default one hour).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInVm } from '../../../tools/vm/vm';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const env: Record<string, string> = {};
for (const k of ['IPVS_BENCH_SERVICES', 'IPVS_BENCH_DESTS', 'IPVS_BENCH_ITERATIONS']) {
  const v = process.env[k];
  if (v !== undefined) env[k] = v;
}

const result = await runInVm({
  command: `${repoRoot}node_modules/.bin/tsx`,
  args: ['--conditions=@nodeagent/source', 'packages/ipvs/bench/vm-workload.ts'],
  cwd: repoRoot,
  env,
  memoryMb: 2048,
  timeoutMs: Number(process.env.IPVS_BENCH_TIMEOUT_MS ?? 3_600_000),
  onStderr: (c) => process.stderr.write(c),
});
const line = result.stdout.split('\n').find((l) => l.startsWith('BENCH-RESULT '));
if (result.exitCode !== 0 || !line) {
  process.stderr.write(`benchmark failed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}\n`);
  process.exit(1);
}
const data = {
  package: '@nodeagent/ipvs',
  environment: 'qemu TCG micro-VM (tools/vm), 1 vCPU',
  ...JSON.parse(line.slice('BENCH-RESULT '.length)),
};
mkdirSync(`${repoRoot}bench-results`, { recursive: true });
writeFileSync(`${repoRoot}bench-results/ipvs.json`, `${JSON.stringify(data, null, 2)}\n`);
console.log(JSON.stringify(data, null, 2));
