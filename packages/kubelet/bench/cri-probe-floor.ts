/**
 * The CPU floor of a node with probed pods, as its own process (apps/kubelet/bench/cpu.bench.ts
 * runs it beside the kubelet executable's runs): `count` pods of issue #35's shape started
 * straight through CRI, then every container's exec readiness probe run every `periodSeconds`
 * through ExecSync, each on its own phase as the kubelet's probe workers are. Nothing else: no
 * API server, no status, no housekeeping. What any kubelet must ask of the runtime for these
 * pods; the process's CPU over a window is the least a kubelet could spend on them.
 *
 * Usage: tsx cri-probe-floor.ts <endpoint> <image> <count> <podLogsDir> [periodSeconds]
 * Prints "ready <ms>" on stdout once every pod's first probe passed; runs until killed
 * (SIGTERM removes its sandboxes first).
 */
import { createCriClient } from '@nodeagent/cri-client';
import type { Pod } from '../src/entries/api';
import { removeAllSandboxes, startProbedPodsThroughCri } from './cri-floor';

const PROBE = ['/bin/true'];

async function main(): Promise<void> {
  const [endpoint, image, countArg, podLogsDir, periodArg = '10'] = process.argv.slice(2);
  if (!endpoint || !image || !countArg || !podLogsDir)
    throw new Error('usage: cri-probe-floor <endpoint> <image> <count> <podLogsDir> [periodSeconds]');
  const count = Number(countArg);
  const periodMs = Number(periodArg) * 1000;
  const client = await createCriClient({ endpoint });
  const pods: Pod[] = Array.from({ length: count }, (_, i) => ({
    metadata: { name: `floor-${i}`, namespace: 'default', uid: `floor-${process.pid}-${i}` },
    spec: {
      nodeName: 'bench-floor',
      containers: [{ name: 'app', image, command: ['sh', '-c', 'sleep 3600'] }],
      terminationGracePeriodSeconds: 1,
    },
  }));
  const origin = performance.now();
  const started = await startProbedPodsThroughCri(client, pods, { podLogsDir, probe: PROBE, origin });
  const timers = started.map(({ containerId }) => {
    // Each probe on its own phase within the period, as the kubelet's workers start at a random offset.
    const probe = () => void client.execSync({ containerId, cmd: PROBE, timeout: 1 }).catch(() => {});
    return setTimeout(() => {
      probe();
      timers.push(setInterval(probe, periodMs));
    }, Math.random() * periodMs);
  });
  // Runs until killed, with or without pods (the gRPC channel alone does not hold the process).
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const stop = async () => {
    clearInterval(keepAlive);
    for (const timer of timers) clearTimeout(timer);
    await removeAllSandboxes(client);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.stdout.write(`ready ${Math.round(performance.now() - origin)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`cri-probe-floor: ${error.message}\n`);
  process.exit(1);
});
