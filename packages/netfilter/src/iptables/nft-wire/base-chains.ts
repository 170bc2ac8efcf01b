// The built-in chains as iptables-nft creates them: base chains with iptables' hook, type and
// priority (nft.c's table definitions; the priorities are NF_IP_PRI_* of the legacy tables).

import type { TableName } from '../model';

/** A base chain's hook number (NF_INET_*), nf_tables chain type and priority. */
export interface BaseChainSpec {
  hook: number;
  type: 'filter' | 'nat' | 'route';
  priority: number;
}

const PREROUTING = 0;
const INPUT = 1;
const FORWARD = 2;
const OUTPUT = 3;
const POSTROUTING = 4;

/** The same for IPv4 and IPv6 (ip6tables-nft uses the NF_IP6_PRI_* values, which are equal). */
export const BASE_CHAINS: Readonly<Record<TableName, Readonly<Record<string, BaseChainSpec>>>> = {
  raw: {
    PREROUTING: { hook: PREROUTING, type: 'filter', priority: -300 },
    OUTPUT: { hook: OUTPUT, type: 'filter', priority: -300 },
  },
  mangle: {
    PREROUTING: { hook: PREROUTING, type: 'filter', priority: -150 },
    INPUT: { hook: INPUT, type: 'filter', priority: -150 },
    FORWARD: { hook: FORWARD, type: 'filter', priority: -150 },
    OUTPUT: { hook: OUTPUT, type: 'route', priority: -150 },
    POSTROUTING: { hook: POSTROUTING, type: 'filter', priority: -150 },
  },
  nat: {
    PREROUTING: { hook: PREROUTING, type: 'nat', priority: -100 },
    INPUT: { hook: INPUT, type: 'nat', priority: 100 },
    OUTPUT: { hook: OUTPUT, type: 'nat', priority: -100 },
    POSTROUTING: { hook: POSTROUTING, type: 'nat', priority: 100 },
  },
  filter: {
    INPUT: { hook: INPUT, type: 'filter', priority: 0 },
    FORWARD: { hook: FORWARD, type: 'filter', priority: 0 },
    OUTPUT: { hook: OUTPUT, type: 'filter', priority: 0 },
  },
};
