import type { TableName } from './model';

/** Built-in chains of each table, in the order iptables-save prints them. */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** The tables this model covers, in iptables-save order. */
export const TABLE_NAMES: readonly TableName[] = ['filter', 'nat', 'mangle', 'raw'];

/** The kernel's XT_EXTENSION_MAXNAMELEN (29) minus the terminating NUL. */
export const MAX_CHAIN_NAME_LENGTH = 28;

/** xt_comment's XT_MAX_COMMENT_LEN (256) minus the NUL. */
export const MAX_COMMENT_LENGTH = 255;

/** Target names a user chain may not take, and that `-j` reads as targets, not chains. */
export const VERDICT_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN']);
export const MODELLED_TARGETS = new Set([
  'ACCEPT',
  'DROP',
  'RETURN',
  'REJECT',
  'DNAT',
  'SNAT',
  'MASQUERADE',
  'MARK',
]);

/** Target extensions accepted as opaque `extension` targets (parse of foreign rules). */
export const KNOWN_EXTENSION_TARGETS = new Set([
  'AUDIT',
  'CHECKSUM',
  'CLASSIFY',
  'CONNMARK',
  'CONNSECMARK',
  'CT',
  'DSCP',
  'HL',
  'HMARK',
  'LOG',
  'NETMAP',
  'NFLOG',
  'NFQUEUE',
  'NOTRACK',
  'REDIRECT',
  'SECMARK',
  'SET',
  'TCPMSS',
  'TEE',
  'TOS',
  'TPROXY',
  'TRACE',
  'TTL',
]);

/** Whether `chain` is one of `table`'s built-in chains. */
export function isBuiltinChain(table: TableName, chain: string): boolean {
  return BUILTIN_CHAINS[table].includes(chain);
}
