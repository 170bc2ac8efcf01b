import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsScope } from '@nodeagent/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { NftablesClient, netnsRunner } from '../../src/index';
import {
  type NftChain,
  type NftFamily,
  type NftOperation,
  type NftRuleset,
  NftTransaction,
  parseScript,
} from '../../src/nftables/index';
import { hostU32 } from '../../src/nftables/netlink/data-types';
import { compileRule, dataWords, decompileRule } from '../../src/nftables/netlink/rule/index';
import { renderScript } from '../../src/nftables/render-script';
import { compareWithNft, compileOperations, encodeElements, nftBytecode } from './nft-rule-oracle-harness';

// nft is the oracle: every rule of the corpus, compiled by us, encoded to netlink bytes and
// decoded back, prints exactly the bytecode `nft --debug=netlink -c` prints for it, anonymous
// sets included; every element encodes (data-types.ts) to the bytes nft sends.

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = join(here, '..', 'fixtures', 'nft-rule-corpus');
const upstreamRuleset = join(
  here,
  '..',
  '..',
  '..',
  '..',
  'fidelity',
  'kube-proxy-v1.36',
  'nft-ruleset.upstream.txt',
);

/** nft's standard priority names (nft 1.0.6 reads some back only as numbers, e.g. `dstnat` on output). */
const PRIORITIES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

function numericPriority(chain: NftChain): NftChain {
  if (typeof chain.priority !== 'string') return chain;
  const m = /^([a-z]+)\s*(?:([+-])\s*(\d+))?$/.exec(chain.priority);
  const base = m ? PRIORITIES[m[1] as string] : undefined;
  if (!m || base === undefined) return chain;
  const delta = m[3] ? Number(m[3]) * (m[2] === '-' ? -1 : 1) : 0;
  return { ...chain, priority: base + delta };
}

/** The operations that rebuild a listed table: sets, maps, chains, rules, elements. */
function operationsOf(ruleset: NftRuleset): NftOperation[] {
  const tx = new NftTransaction().add({ kind: 'table' });
  for (const set of ruleset.sets) tx.add(set);
  for (const map of ruleset.maps) tx.add(map);
  for (const chain of ruleset.chains) tx.add(numericPriority(chain));
  for (const chain of ruleset.chains)
    for (const rule of ruleset.rules[chain.name] ?? [])
      tx.add({
        kind: 'rule',
        chain: chain.name,
        rule: rule.rule,
        ...(rule.comment ? { comment: rule.comment } : {}),
      });
  for (const elements of Object.values(ruleset.elements)) for (const e of elements) tx.add(e);
  return tx.operations;
}

describe('rule compiler against nft --debug=netlink (real nft, throwaway namespaces)', {
  timeout: 600_000,
}, () => {
  const scope = new NetnsScope('nf-rule');
  afterAll(() => scope.cleanup());

  async function expectSameAsNft(family: NftFamily, table: string, operations: readonly NftOperation[]) {
    const netns = await scope.create();
    const nft = await nftBytecode(netns, family, table, operations);
    const comparison = compareWithNft(compileOperations(family, table, operations), nft.rules);
    expect(comparison.mismatches).toEqual([]);
    expect(comparison.rules).toBeGreaterThan(0);
    expect(encodeElements(family, operations)).toEqual(nft.elements);
    if (operations.some((op) => op.object.kind === 'element')) expect(nft.elements.size).toBeGreaterThan(0);
    return comparison;
  }

  const files = readdirSync(corpusDir).filter((f) => f.endsWith('.nft'));
  it('has a corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  for (const file of files) {
    it(`${file}: every rule and element as nft encodes it`, async () => {
      const script = readFileSync(join(corpusDir, file), 'utf8');
      const [, family, table] = /^add table (ip6?|inet) (\S+)/m.exec(script) ?? [];
      const tx = parseScript(script, family as NftFamily, table as string);
      await expectSameAsNft(family as NftFamily, table as string, tx.operations);
    });
  }

  it('interface names (iif/oif) resolve to the indexes nft resolves in the namespace, and print back as names', async () => {
    const netns = await scope.create();
    await netns.exec('ip', ['link', 'add', 'cbr0', 'type', 'veth', 'peer', 'name', 'cbr0p']);
    const links = JSON.parse((await netns.exec('ip', ['-j', 'link', 'show'])).stdout) as {
      ifindex: number;
      ifname: string;
    }[];
    const indexOf = (name: string) => links.find((l) => l.ifname === name)?.ifindex;
    const tx = new NftTransaction()
      .add({ kind: 'table' })
      .add({ kind: 'chain', name: 'to' })
      .add({ kind: 'chain', name: 'c' })
      .add({ kind: 'rule', chain: 'c', rule: 'iif cbr0 goto to' })
      .add({ kind: 'rule', chain: 'c', rule: 'iif != cbr0 jump to' })
      .add({ kind: 'rule', chain: 'c', rule: 'oif lo accept' });
    const nft = await nftBytecode(netns, 'ip', 't', tx.operations);
    const ours = compileOperations('ip', 't', tx.operations, indexOf);
    expect(compareWithNft(ours, nft.rules).mismatches).toEqual([]);
    expect(ours[0]?.lines[1]).toBe(`  [ cmp eq reg 1 ${dataWords(hostU32(indexOf('cbr0') as number))[0]} ]`);
    await netns.exec('nft', ['-f', '-'], {
      input: renderScript('ip', 't', tx.operations, { emulateDestroy: false }),
    });
    const listed = await new NftablesClient({
      family: 'ip',
      table: 't',
      runner: netnsRunner(netns.path),
    }).list();
    const names = new Map(links.map((l) => [l.ifindex, l.ifname]));
    const printed = (listed.rules.c ?? []).map((r) =>
      decompileRule(
        compileRule({
          family: 'ip',
          table: 't',
          chain: 'c',
          rule: r.rule,
          sets: new Map(),
          resolveInterface: indexOf,
          allocateSet: () => ({ name: '__set0', setId: 1 }),
        }).expressions,
        { family: 'ip', interfaceName: (i) => names.get(i) },
      ),
    );
    expect(printed).toEqual((listed.rules.c ?? []).map((r) => r.rule));
    expect(printed[0]).toBe('iif "cbr0" goto to');
  });

  it("upstream v1.36 kube-proxy's nftables ruleset (fidelity fixture), as the kernel lists it back", async () => {
    const netns = await scope.create();
    await netns.exec('nft', ['-f', upstreamRuleset]);
    for (const family of ['ip', 'ip6'] as const) {
      const listed = await new NftablesClient({
        family,
        table: 'kube-proxy',
        runner: netnsRunner(netns.path),
      }).list();
      const operations = operationsOf(listed);
      expect(operations.filter((op) => op.object.kind === 'rule').length).toBeGreaterThanOrEqual(20);
      await expectSameAsNft(family, 'kube-proxy', operations);
    }
  });
});
