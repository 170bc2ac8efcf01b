// The kernel's nf_tables objects of one family as comparable text: every table, chain and rule
// the kernel dumps, each attribute as its type and payload bytes, without the ones that differ
// between two namespaces holding the same ruleset (handles, positions, use counts).

import { readAttributes } from '../../src/nftables/netlink/attributes';
import { NftMsg } from '../../src/nftables/netlink/constants';
import { nftMessageType } from '../../src/nftables/netlink/message';
import type { NfnetlinkSession } from '../../src/nftables/netlink/session';

/** Attribute types left out per object: NFTA_TABLE_USE/HANDLE, NFTA_CHAIN_HANDLE/USE, NFTA_RULE_HANDLE/POSITION. */
const VOLATILE: Readonly<Record<string, readonly number[]>> = {
  table: [3, 4],
  chain: [2, 6],
  rule: [3, 6],
};

function attributesText(body: Buffer, kind: string): string {
  const skip = VOLATILE[kind] ?? [];
  return readAttributes(body.subarray(4))
    .filter((a) => !skip.includes(a.type & 0x3fff))
    .map((a) => `${a.type & 0x3fff}=${a.payload.toString('hex')}`)
    .join(' ');
}

/** `family` (2: ip, 10: ip6) as `table …`, `chain …` and `rule …` lines, in the kernel's order. */
export async function dumpFamily(session: NfnetlinkSession, family: number): Promise<string[]> {
  const lines: string[] = [];
  const kinds = [
    ['table', NftMsg.GETTABLE],
    ['chain', NftMsg.GETCHAIN],
    ['rule', NftMsg.GETRULE],
  ] as const;
  for (const [kind, type] of kinds) {
    const bodies = await session.dump(nftMessageType(type), family, Buffer.alloc(0));
    const objects = bodies.map((body) => `${kind} ${attributesText(body, kind)}`);
    // Chains are listed in creation order, which differs between a tool that creates them as it
    // reads and a batch that declares them first: chains sort by their text, rules by their
    // table and chain (the first two attributes) and keep their order within a chain.
    const key = (line: string) => line.split(' ').slice(0, 3).join(' ');
    const ordered = objects.map((line, i) => ({ line, i, key: kind === 'rule' ? key(line) : line }));
    ordered.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
    lines.push(...ordered.map((o) => o.line));
  }
  return lines;
}

/** iptables-save's text without its comment lines (they carry the date). */
export function saveText(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
}
