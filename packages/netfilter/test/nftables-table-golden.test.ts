import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IncrementalNftTable, type NftContribution, renderScript } from '../src/nftables/index';
import { NetlinkNftablesClient } from '../src/nftables/netlink/client';
import type { NftTransaction } from '../src/nftables/transaction';
import { normalizedHex, RecordingChannel } from './nft-netlink-datagrams';

// IncrementalNftTable keeps its elements packed (issue #54). What it gives out must not change:
// fixtures/nftables-table-golden.json holds hashes of its full script, full transaction, the
// datagrams of runTable and of each diff, recorded from the table that kept ` . `-joined texts
// (762be4a0). NFT_GOLDEN_WRITE=1 writes the fixture instead of comparing.

const FIXTURE = new URL('./fixtures/nftables-table-golden.json', import.meta.url);
const ENDPOINTS = 20;

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const podIP = (k: number) => dotted((10 << 24) + (128 << 16) + 2 + k);

/** Declarations of a kube-proxy-like table: its sets and maps and one base chain. */
const base: NftContribution = {
  chains: [
    {
      chain: { kind: 'chain', name: 'services', type: 'nat', hook: 'prerouting', priority: -100 },
      rules: [{ rule: 'ip daddr . meta l4proto . th dport vmap @service-ips' }],
    },
  ],
  sets: [
    { kind: 'set', name: 'cluster-ips', type: 'ipv4_addr', comment: 'Active ClusterIPs' },
    { kind: 'set', name: 'hairpin', type: 'ipv4_addr . ipv4_addr' },
    { kind: 'map', name: 'service-ips', type: 'ipv4_addr . inet_proto . inet_service', valueType: 'verdict' },
    {
      kind: 'map',
      name: 'endpoints',
      type: 'ipv4_addr . inet_proto . inet_service . integer',
      valueType: 'ipv4_addr . inet_service',
    },
    { kind: 'set', name: 'affinity', type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: '3h' },
  ],
};

/** Service `i` with its endpoints `eps` (pod indexes) in slot order, as kube-proxy writes one. */
function service(i: number, eps: readonly number[]): NftContribution {
  const vip = dotted((10 << 24) + (96 << 16) + 16 + i);
  const port = String(80 + (i % 3) * 1000);
  const chain = `svc-${i}`;
  const elements: NonNullable<NftContribution['elements']>[number][] = [
    { kind: 'element', container: 'cluster-ips', key: [vip] },
    {
      kind: 'element',
      container: 'service-ips',
      key: [vip, 'tcp', port],
      value: [`goto ${chain}`],
      comment: `ns/svc-${i}:http`,
    },
  ];
  eps.forEach((k, slot) => {
    elements.push({
      kind: 'element',
      container: 'endpoints',
      key: [vip, 'tcp', port, String(slot)],
      value: [podIP(k), '8080'],
    });
  });
  for (const k of eps) elements.push({ kind: 'element', container: 'hairpin', key: [podIP(k), podIP(k)] });
  // Shared by every third Service's neighbour: an element two owners hold.
  elements.push({
    kind: 'element',
    container: 'affinity',
    key: [podIP(3 * (i >> 1))],
    timeout: `${1 + (i % 5)}m`,
  });
  return {
    chains: [{ chain: { kind: 'chain', name: chain }, rules: [{ rule: `mark set ${i}` }] }],
    elements,
  };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Hashes of what the table gives out for a fixed series of changes. */
async function outputs(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const channel = new RecordingChannel(1 << 26);
  const client = new NetlinkNftablesClient({ family: 'ip', table: 'kube-proxy', channel });
  const datagrams = async (work: () => Promise<void>) => {
    const from = channel.datagrams.length;
    await work();
    const hash = createHash('sha256');
    for (const d of channel.datagrams.slice(from)) hash.update(normalizedHex(d));
    return `${channel.datagrams.length - from}:${hash.digest('hex').slice(0, 16)}`;
  };
  const script = (tx: NftTransaction) => sha(renderScript('ip', 'kube-proxy', tx, { emulateDestroy: false }));
  const full = async (name: string) => {
    out[`${name}.fullScript`] = sha(table.fullScript('ip', 'kube-proxy'));
    out[`${name}.fullTransaction`] = script(table.fullTransaction());
    out[`${name}.runTable`] = await datagrams(() => client.runTable(table));
  };
  const diff = async (name: string) => {
    const tx = table.diffTransaction();
    if (!tx) throw new Error(`${name}: no diff`);
    out[`${name}.script`] = script(tx);
    out[`${name}.operations`] = `${tx.operations.length}:${sha(JSON.stringify(tx.operations))}`;
    out[`${name}.datagrams`] = await datagrams(() => client.run(tx));
    table.commit();
  };

  const table = new IncrementalNftTable({ kind: 'table', comment: 'rules for kube-proxy' });
  table.set('base', base);
  for (let i = 0; i < 300; i++) table.set(`s${i}`, service(i, range(i * ENDPOINTS, ENDPOINTS)));
  await full('first');
  table.commit();
  // One endpoint replaced, one removed (the last moves into its slot), Services gone and new.
  for (let i = 0; i < 300; i += 7) {
    const eps = range(i * ENDPOINTS, ENDPOINTS);
    eps[i % ENDPOINTS] = 100_000 + i;
    if (i % 2 === 0) eps.splice(3, 1, eps.pop() as number);
    table.set(`s${i}`, service(i, eps));
  }
  for (let i = 5; i < 300; i += 40) table.set(`s${i}`, undefined);
  for (let i = 300; i < 310; i++) table.set(`s${i}`, service(i, range(i * ENDPOINTS, 3)));
  await diff('diff1');
  for (let i = 0; i < 300; i += 7) table.set(`s${i}`, service(i, range(i * ENDPOINTS, ENDPOINTS)));
  await diff('diff2');
  await full('after');
  out.owner = sha(JSON.stringify(table.get('s7')));
  return out;
}

describe('IncrementalNftTable output with packed elements (issue #54)', () => {
  it('full and diff transactions, scripts and datagrams are the ones the text form gave', async () => {
    const got = await outputs();
    if (process.env.NFT_GOLDEN_WRITE === '1') writeFileSync(FIXTURE, `${JSON.stringify(got, null, 1)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  });
});
