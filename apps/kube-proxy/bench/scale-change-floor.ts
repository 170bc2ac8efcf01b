import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@nodeagent/testing';
import { percentile } from './percentile';
import { type PacedFloor, pacedChangeFloor } from './scale-paced-floor';

// The floor of one endpoint change in nftables mode (issue #54): the same shape of transaction
// as the daemon's last change (its endpoint-map and hairpin-set element deletes and adds), into
// the 250k-element table the daemon left, by the kernel's own tool (`nft -f`, its process start
// included, beside `nft -f` of a transaction that changes nothing) and over netlink alone
// (change-floor-helper.ts in the namespace: first sendmsg to the kernel's answer). Forward and
// back alternate, so every run moves one endpoint as a change does.

const HELPER = fileURLToPath(new URL('./change-floor-helper.ts', import.meta.url));
/** An address no endpoint of the bench's cluster has (its pods are in 10.128.0.0/9). */
const SPARE = '10.127.254.1';

/** One change's floor, ms (medians and p99s over the runs). */
export interface ChangeFloor {
  nftFileP50Ms: number;
  nftNoopP50Ms: number;
  netlinkSendAckP50Ms: number;
  netlinkSendAckP99Ms: number;
  netlinkSendAckMaxMs: number;
  netlinkRunP50Ms: number;
  netlinkRunP99Ms: number;
  /** Netlink transactions timed (forward and back, `netlinkRuns` times each). */
  netlinkSamples: number;
  /** The same transactions each woken after a change's idle, from the bench's write (scale-paced-floor.ts). */
  paced?: PacedFloor;
}

const element = /^add element (\S+ \S+ \S+) \{ (.*) \}$/;

/**
 * Two scripts that swap `address` (the last change's, in the kernel now) with a spare one in
 * every element the change's script added: in a map only the value, in a set the element itself.
 */
export function swapScripts(changeScript: string, address: string): { forward: string; back: string } {
  const forward: string[] = [];
  const back: string[] = [];
  const swap = (text: string) => text.replaceAll(address, SPARE);
  for (const line of changeScript.split('\n')) {
    const m = element.exec(line.trim());
    if (!m) continue;
    const [, where, now] = m as unknown as [string, string, string];
    const key = (text: string) => text.split(' : ')[0] as string;
    forward.push(`delete element ${where} { ${key(now)} }`, `add element ${where} { ${swap(now)} }`);
    back.push(`delete element ${where} { ${key(swap(now))} }`, `add element ${where} { ${now} }`);
  }
  return { forward: `${forward.join('\n')}\n`, back: `${back.join('\n')}\n` };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function nftFileMs(ns: Netns, files: string[], runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++)
    for (const file of files) {
      const t0 = performance.now();
      await ns.exec('nft', ['-f', file]);
      times.push(performance.now() - t0);
    }
  return times;
}

/** Measures the floor in `ns` after the daemon stopped; its table must still be there. */
export async function nftChangeFloorMs(
  ns: Netns,
  dir: string,
  changeScript: string,
  address: string,
  paced: { samples: number; spacingMs: number },
  runs = 20,
  // 400 transactions: with 40, the p99 was nearly the 2nd-highest sample and swung run to run.
  netlinkRuns = 200,
): Promise<ChangeFloor> {
  const { forward, back } = swapScripts(changeScript, address);
  const files = { forward: join(dir, 'floor-forward.nft'), back: join(dir, 'floor-back.nft') };
  const noop = join(dir, 'floor-noop.nft');
  writeFileSync(files.forward, forward);
  writeFileSync(files.back, back);
  writeFileSync(noop, 'add table ip kube-proxy\n');
  const nft = await nftFileMs(ns, [files.forward, files.back], runs / 2);
  const nftNoop = await nftFileMs(ns, [noop], runs);
  // The bench runs under tsx: the helper gets the same loader and source conditions.
  const out = await ns.exec(process.execPath, [
    ...process.execArgv,
    HELPER,
    files.forward,
    files.back,
    String(netlinkRuns),
  ]);
  const { sendMs, runMs } = JSON.parse(out.stdout) as { sendMs: number[]; runMs: number[] };
  const pacedFloor =
    paced.samples > 0 ? await pacedChangeFloor(ns, files, paced.samples, paced.spacingMs) : undefined;
  return {
    nftFileP50Ms: round(percentile(nft, 50)),
    nftNoopP50Ms: round(percentile(nftNoop, 50)),
    netlinkSendAckP50Ms: round(percentile(sendMs, 50)),
    netlinkSendAckP99Ms: round(percentile(sendMs, 99)),
    netlinkSendAckMaxMs: round(Math.max(...sendMs)),
    netlinkRunP50Ms: round(percentile(runMs, 50)),
    netlinkRunP99Ms: round(percentile(runMs, 99)),
    netlinkSamples: sendMs.length,
    ...(pacedFloor ? { paced: pacedFloor } : {}),
  };
}
