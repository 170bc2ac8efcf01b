import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsScope } from '@nodeagent/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { NftablesClient, netnsRunner } from '../../src/index';
import { type NftFamily, type NftOperation, parseScript } from '../../src/nftables/index';
import { keyLength } from '../../src/nftables/netlink/data-types';
import {
  compileRule,
  decompileRule,
  type NetlinkSetInfo,
  newRuleBatch,
} from '../../src/nftables/netlink/rule/index';

// The reverse direction: our expressions printed back as rule text equal what `nft list`
// prints for the same rules loaded with `nft -f` (real nft, throwaway namespace). For
// the upstream fixture the listed text itself is compiled and must print back unchanged.

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

function setsOf(operations: readonly NftOperation[]): Map<string, NetlinkSetInfo> {
  const sets = new Map<string, NetlinkSetInfo>();
  for (const { object: o } of operations)
    if (o.kind === 'set' || o.kind === 'map')
      sets.set(o.name, {
        name: o.name,
        keyType: o.type,
        keyLength: o.typeof ? 0 : keyLength(o.type),
        flags: o.kind === 'map' ? 8 : 0,
        ...(o.kind === 'map' ? { valueType: o.valueType } : {}),
      });
  return sets;
}

/** Each rule compiled (in one batch) and printed back. */
function roundTrip(
  family: NftFamily,
  rules: readonly { chain: string; rule: string }[],
  sets: Map<string, NetlinkSetInfo>,
) {
  const batch = newRuleBatch();
  let id = 0;
  return rules.map(({ chain, rule }) => {
    const compiled = compileRule({
      family,
      table: 't',
      chain,
      rule,
      sets,
      batch,
      allocateSet: (kind) => ({ name: `__${kind}${id}`, setId: ++id }),
    });
    return decompileRule(compiled.expressions, {
      family,
      chain,
      anonymousSets: new Map(compiled.anonymousSets.map((s) => [s.name, s])),
    });
  });
}

describe('rule text printed back from expressions, as nft lists it (real nft, throwaway namespaces)', {
  timeout: 600_000,
}, () => {
  const scope = new NetnsScope('nf-ruledc');
  afterAll(() => scope.cleanup());

  for (const file of readdirSync(corpusDir).filter((f) => f.endsWith('.nft'))) {
    it(`${file}: every rule prints as nft lists it`, async () => {
      const script = readFileSync(join(corpusDir, file), 'utf8');
      const [, family, table] = /^add table (ip6?|inet) (\S+)/m.exec(script) ?? [];
      const operations = parseScript(script, family as NftFamily, table as string).operations;
      const netns = await scope.create();
      await netns.exec('nft', ['-f', '-'], { input: script });
      const listed = await new NftablesClient({
        family: family as NftFamily,
        table: table as string,
        runner: netnsRunner(netns.path),
      }).list();
      const rules = operations.flatMap((op) => (op.object.kind === 'rule' ? [op.object] : []));
      const seen = new Map<string, number>();
      const expected = rules.map((r) => {
        const n = seen.get(r.chain) ?? 0;
        seen.set(r.chain, n + 1);
        return listed.rules[r.chain]?.[n]?.rule;
      });
      expect(roundTrip(family as NftFamily, rules, setsOf(operations))).toEqual(expected);
    });
  }

  it("upstream v1.36 kube-proxy's ruleset: each listed rule compiles and prints back unchanged", async () => {
    const netns = await scope.create();
    await netns.exec('nft', ['-f', upstreamRuleset]);
    for (const family of ['ip', 'ip6'] as const) {
      const listed = await new NftablesClient({
        family,
        table: 'kube-proxy',
        runner: netnsRunner(netns.path),
      }).list();
      const sets = setsOf(
        [...listed.sets, ...listed.maps].map((object) => ({ verb: 'add' as const, object })),
      );
      const rules = listed.chains.flatMap((c) =>
        (listed.rules[c.name] ?? []).map((r) => ({ chain: c.name, rule: r.rule })),
      );
      expect(rules.length).toBeGreaterThanOrEqual(20);
      expect(roundTrip(family, rules, sets)).toEqual(rules.map((r) => r.rule));
    }
  });
});
