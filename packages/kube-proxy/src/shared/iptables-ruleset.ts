/** The rules of one table, in the order iptables-restore must see them. */
export interface IptablesTable {
  /** Chains to declare (":NAME - [0:0]"), which also flushes them under --noflush. */
  readonly chains: readonly string[];
  /** Rules as argument vectors, each starting with "-A", chain. */
  readonly rules: readonly (readonly string[])[];
  /** Chains to delete ("-X"); the payload also declares them, which flushes them first. */
  readonly deleteChains: readonly string[];
}

/**
 * A rule in a built-in chain that must exist for our chains to see traffic; installed once
 * with check-then-insert rather than through restore (restore would flush the built-in chain).
 */
export interface JumpRule {
  readonly table: 'filter' | 'nat';
  readonly chain: string;
  readonly args: readonly string[];
}

/** A proxier's whole iptables ruleset for one family: what renderRestorePayload turns into one restore. */
export interface IptablesRuleset {
  /** KUBE-* chains of the filter table (firewall, forward, reject rules). */
  readonly filter: IptablesTable;
  /** KUBE-* chains of the nat table (service, endpoint, masquerade rules). */
  readonly nat: IptablesTable;
}

// Characters a token may hold and stay unquoted: A-Z a-z 0-9 _ . : / - + = , ! [ ]
const PLAIN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-+=,![]')
  PLAIN[c.charCodeAt(0)] = 1;

/** A charCode loop, not a RegExp: every token of every rule (millions at 10k Services) passes here. */
function isPlain(arg: string): boolean {
  if (arg.length === 0) return false;
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c >= 128 || PLAIN[c] === 0) return false;
  }
  return true;
}

// iptables-restore tokenizes like a shell with double quotes only.
function quote(arg: string): string {
  return isPlain(arg) ? arg : `"${arg.replace(/(["\\])/g, '\\$1')}"`;
}

/** One rule line as iptables-restore reads it. */
export function renderRule(args: readonly string[]): string {
  // One flat string: `line += ' ' + arg` made a cons string per argument, which rule text
  // kept between syncs (a Service's top-level chain lines) holds on to.
  const quoted = new Array<string>(args.length);
  for (let i = 0; i < args.length; i++) quoted[i] = quote(args[i]!);
  return quoted.join(' ');
}

/** The iptables-restore input for `iptables-restore --noflush --counters`. */
export function renderRestorePayload(ruleset: IptablesRuleset): string {
  const out: string[] = [];
  for (const [name, table] of [
    ['filter', ruleset.filter],
    ['nat', ruleset.nat],
  ] as const) {
    out.push(`*${name}`);
    for (const c of [...table.chains, ...table.deleteChains]) out.push(`:${c} - [0:0]`);
    for (const r of table.rules) out.push(renderRule(r));
    for (const c of table.deleteChains) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}
