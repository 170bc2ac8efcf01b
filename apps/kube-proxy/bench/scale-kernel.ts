import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '@nodeagent/testing';
import { floorPayloadFromSave } from './iptables-floor-payload';

// What the scale bench reads from the kernel of its namespace, and the floor of writing the
// same rules: the ruleset the daemon left, dumped, flushed and loaded back with the kernel's own
// tool (`nft -f`, `iptables-restore`) in one transaction, the least any kube-proxy could spend
// handing the kernel those rules. For iptables the dump is first put in the shape iptables-nft
// loads fastest (see iptables-floor-payload.ts): iptables-save's own text took 104 s at
// 5k x 50, twice the daemon's whole sync, which is no floor.

export type ProxyMode = 'nftables' | 'iptables';

const DUMP_TIMEOUT_MS = 900_000;

/** Rules and set/map elements the kernel holds in the namespace, and the text the count came from. */
export interface KernelRules {
  rules: number;
  elements: number;
}

/**
 * Runs `argv` in the namespace with its output into `file` (a shell redirect: at 250k endpoints
 * the text is tens of MB, more than a captured stdout may hold); returns the text.
 */
async function dumpInto(ns: Netns, file: string, argv: string[]): Promise<string> {
  // Listing 250k map elements takes the kernel and nft a minute or more on a busy machine.
  await ns.exec('sh', ['-c', '"$@" > "$0"', file, ...argv], { timeoutMs: DUMP_TIMEOUT_MS });
  return readFileSync(file, 'utf8');
}

/** Counts rules (and, in nftables, set and map elements) in every table of the namespace. */
export async function kernelRules(ns: Netns, mode: ProxyMode, dir: string): Promise<KernelRules> {
  if (mode === 'iptables') {
    const save = await dumpInto(ns, join(dir, 'count.iptables'), ['iptables-save']);
    return { rules: (save.match(/^-A /gm) ?? []).length, elements: 0 };
  }
  const json = JSON.parse(await dumpInto(ns, join(dir, 'count.json'), ['nft', '-j', 'list', 'ruleset'])) as {
    nftables: Record<string, { elem?: unknown[] }>[];
  };
  let rules = 0;
  let elements = 0;
  for (const entry of json.nftables) {
    if (entry.rule) rules++;
    elements += (entry.set?.elem ?? entry.map?.elem ?? []).length;
  }
  return { rules, elements };
}

const dumpCommand = (mode: ProxyMode) =>
  mode === 'iptables' ? ['iptables-save'] : ['nft', 'list', 'ruleset'];

/** Whether `address` appears in a dump (the last endpoint change landed). */
export function dumpHas(file: string, address: string): boolean {
  return new RegExp(`\\b${address.replace(/\./g, '\\.')}\\b`).test(readFileSync(file, 'utf8'));
}

/** Dumps the namespace's rules as the kernel's own tool would restore them; returns the file. */
export async function dumpRules(ns: Netns, mode: ProxyMode, dir: string): Promise<string> {
  const file = join(dir, mode === 'iptables' ? 'rules.iptables' : 'rules.nft');
  await dumpInto(ns, file, dumpCommand(mode));
  return file;
}

/** Empties every table of the namespace (iptables-nft's tables are nftables tables too). */
async function flush(ns: Netns): Promise<void> {
  await ns.exec('nft', ['flush', 'ruleset']);
}

/** Runs of the change floor; its median counts. */
const CHANGE_FLOOR_RUNS = 5;

/**
 * The floor of one endpoint change in iptables mode: the median wall time of
 * `iptables-restore --noflush` of the smallest transaction a change writes (one rule appended to
 * a chain it declares) into the table the daemon left. Any commit that adds a rule makes the
 * kernel validate every jump of the table (nft_table_validate: 0.55 s of kernel time at 5k x 50
 * on 6.18, against 0.03 s for a commit that only declares or deletes a chain), whoever writes it.
 * Call before restoreFloorMs empties the namespace; the probe chain is deleted again.
 */
export async function changeFloorMs(ns: Netns, dir: string): Promise<number> {
  const chain = 'KUBE-SEP-BENCHFLOOR';
  const add = join(dir, 'change-floor.iptables');
  const del = join(dir, 'change-floor-delete.iptables');
  writeFileSync(add, `*nat\n:${chain} - [0:0]\n-A ${chain} -j RETURN\nCOMMIT\n`);
  writeFileSync(del, `*nat\n:${chain} - [0:0]\n-X ${chain}\nCOMMIT\n`);
  const times: number[] = [];
  for (let r = 0; r < CHANGE_FLOOR_RUNS; r++) {
    const t0 = performance.now();
    await ns.exec('iptables-restore', [...RESTORE_ARGS, add], { timeoutMs: DUMP_TIMEOUT_MS });
    times.push(performance.now() - t0);
    await ns.exec('iptables-restore', [...RESTORE_ARGS, del], { timeoutMs: DUMP_TIMEOUT_MS });
  }
  return times.sort((a, b) => a - b)[Math.floor(CHANGE_FLOOR_RUNS / 2)] as number;
}

/** The arguments upstream's kube-proxy and ours pass to iptables-restore (`-w` is ignored by iptables-nft). */
const RESTORE_ARGS = ['--noflush', '--counters', '-w', '5', '-W', '100000'];

/**
 * The file the floor loads: `nft list ruleset` as it is; for iptables, the dump as a
 * `--noflush` payload in iptables-nft's fastest shape (floorPayloadFromSave).
 */
function floorFile(mode: ProxyMode, dump: string): string {
  if (mode === 'nftables') return dump;
  const file = `${dump}.floor`;
  writeFileSync(file, floorPayloadFromSave(readFileSync(dump, 'utf8')));
  return file;
}

/**
 * Loads the dump `file` into the emptied namespace `runs` times (flushing before each); the
 * fastest load in ms, as wall time of the tool's process (its exec included, like the daemon's
 * own iptables-restore is). iptables: `iptables-restore` (the host's back end, as the daemon
 * detects it) with the daemon's arguments.
 */
export async function restoreFloorMs(ns: Netns, mode: ProxyMode, file: string, runs = 2): Promise<number> {
  const load = floorFile(mode, file);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    await flush(ns);
    const t0 = performance.now();
    if (mode === 'iptables')
      await ns.exec('iptables-restore', [...RESTORE_ARGS, load], { timeoutMs: DUMP_TIMEOUT_MS });
    else await ns.exec('nft', ['-f', load], { timeoutMs: DUMP_TIMEOUT_MS });
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
