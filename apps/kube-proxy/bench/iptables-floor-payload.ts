// The iptables floor of the scale bench (issue #54): the kernel's own tool loading the rules
// the daemon left, by the fastest path iptables-nft 1.8 offers for them, so the floor is what
// any kube-proxy must pay and not the cost of iptables-save's layout.
//
// Why the reshaping: iptables-nft's cost grows with the chains it already holds, and which chain
// a rule names matters too. At 5,000 Services x 50 endpoints (255k chains, 760k rules; the scale
// bench's iptables floor, `npm run bench:scale -w apps/kube-proxy`) iptables-save's text restored
// as it is took about twice as long as the same rules with each Service's chains declared just
// before its rules (104 s against 51 s), because declaring the 250k endpoint chains first and
// filling them afterwards makes every rule's chain lookup pay for all of them.

/** A table declaring at least this many chains gets `-S` after its header (see floorPayloadFromSave). */
const WIDEN_MIN_CHAINS = 512;

interface Section {
  table: string;
  /** Declarations of built-in chains (`:INPUT ACCEPT [0:0]`), kept as iptables-save wrote them. */
  builtins: string[];
  /** User chains in iptables-save's order, each with its rules. */
  chains: Map<string, string[]>;
  /** Rules of built-in chains, in order. */
  builtinRules: string[];
}

function parseSave(save: string): Section[] {
  const sections: Section[] = [];
  let cur: Section | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      cur = { table: line.slice(1), builtins: [], chains: new Map(), builtinRules: [] };
      sections.push(cur);
      continue;
    }
    // Only declarations and rules are kept: comments, COMMIT and blank lines are written anew.
    if (!cur) continue;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      if (policy === '-') cur.chains.set(name as string, []);
      else cur.builtins.push(line);
    } else if (line.startsWith('-A ')) {
      const chain = line.slice(3, line.indexOf(' ', 3));
      const own = cur.chains.get(chain);
      if (own) own.push(line);
      else cur.builtinRules.push(line);
    }
  }
  return sections;
}

/** The user chains a chain's rules jump or go to (`-j X`, `-g X`). */
function targets(rules: readonly string[], chains: ReadonlyMap<string, string[]>): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    for (const m of rule.matchAll(/ -[jg] (\S+)/g)) if (chains.has(m[1] as string)) out.push(m[1] as string);
  }
  return out;
}

/**
 * Each user chain declared right before its own rules, and after every chain it jumps to (a
 * rule may only name a chain that exists by then), depth first from the chains nothing jumps
 * to: from KUBE-SERVICES, each Service's endpoint chains come just before its service chain,
 * as in the daemon's payload, instead of all 250k endpoint chains first in name order (which
 * took iptables-nft twice as long: a jump to a chain declared long before costs far more than
 * one to a chain declared just before).
 */
function userChainLines(section: Section): string[] {
  const out: string[] = [];
  const written = new Set<string>();
  const jumpsOf = new Map<string, string[]>();
  const referenced = new Set<string>();
  for (const [chain, rules] of section.chains) {
    const t = targets(rules, section.chains);
    jumpsOf.set(chain, t);
    for (const c of t) referenced.add(c);
  }
  const write = (chain: string) => {
    if (written.has(chain)) return;
    written.add(chain);
    for (const t of jumpsOf.get(chain) as string[]) write(t);
    out.push(`:${chain} - [0:0]`);
    for (const rule of section.chains.get(chain) as string[]) out.push(rule);
  };
  for (const chain of section.chains.keys()) if (!referenced.has(chain)) write(chain);
  for (const chain of section.chains.keys()) write(chain);
  return out;
}

/**
 * iptables-save's text as an `iptables-restore --noflush` payload of the same rules in the
 * daemon's first-sync shape: per table, user chains declared right before their rules (jump
 * targets first) and, where a table declares ≥ 512 chains, `-S` after its header so
 * iptables-nft caches the whole table instead of a list of the chains named (quadratic: over
 * 6 minutes for 50k chains). Rules of built-in chains follow in a section of their own without
 * `-S` (in a table that does not exist yet, the widened cache makes iptables-nft 1.8 fail them;
 * the daemon sends its jumps the same way). Counters are dropped (`[0:0]`).
 */
export function floorPayloadFromSave(save: string): string {
  const out: string[] = [];
  const tails: string[] = [];
  for (const s of parseSave(save)) {
    out.push(`*${s.table}`);
    if (s.chains.size >= WIDEN_MIN_CHAINS) out.push('-S');
    // Appended line by line: a 5k x 50 table has over a million (too many for a spread).
    for (const line of userChainLines(s)) out.push(line);
    out.push('COMMIT');
    if (s.builtinRules.length > 0)
      tails.push(
        `*${s.table}`,
        ...s.builtins.map((b) => b.replace(/\[\d+:\d+\]$/, '[0:0]')),
        ...s.builtinRules,
        'COMMIT',
      );
  }
  return `${out.join('\n')}\n${tails.map((l) => `${l}\n`).join('')}`;
}
