import { NetnsScope } from '@nodeagent/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NftablesClient, netnsRunner } from '../../src/index';
import type { NftOperation } from '../../src/nftables/index';
import { keyLength } from '../../src/nftables/netlink/data-types';
import {
  compileRule,
  decompileRule,
  type NetlinkSetInfo,
  newRuleBatch,
} from '../../src/nftables/netlink/rule/index';
import { renderScript } from '../../src/nftables/render-script';
import { fuzzTable, ruleText } from '../nft-rule-arbitraries';
import { compareWithNft, compileOperations, nftBytecode } from './nft-rule-oracle-harness';

/** Two ordered bounds on transport fields in one rule (see the decompile fuzz). */
const LOSSY_NFT_RANGE = /(sport|dport) [<>]=? \S+ .*(sport|dport) [<>]=? /;

function setsOf(operations: readonly NftOperation[]): Map<string, NetlinkSetInfo> {
  const sets = new Map<string, NetlinkSetInfo>();
  for (const { object: o } of operations)
    if (o.kind === 'set' || o.kind === 'map')
      sets.set(o.name, {
        name: o.name,
        keyType: o.type,
        keyLength: keyLength(o.type),
        flags: 0,
        ...(o.kind === 'map' ? { valueType: o.valueType } : {}),
      });
  return sets;
}

// Generated rules (test/nft-rule-arbitraries.ts) compiled by us and by nft: the bytecode must be
// identical, rule by rule, anonymous sets included. One nft run checks a whole batch of rules.

describe('rule compiler fuzzed against nft --debug=netlink (real nft, throwaway namespace)', {
  timeout: 900_000,
}, () => {
  const scope = new NetnsScope('nf-rulefz');
  afterAll(() => scope.cleanup());

  const cases = [
    { family: 'ip', addresses: 'ip' },
    { family: 'ip6', addresses: 'ip6' },
    { family: 'inet', addresses: 'ip' },
    { family: 'inet', addresses: 'ip6' },
  ] as const;
  for (const { family, addresses } of cases) {
    it(`${family} table, ${addresses} rules: generated rules compile to nft's bytecode`, async () => {
      const netns = await scope.create();
      await fc.assert(
        fc.asyncProperty(
          fc.array(ruleText(addresses, family === 'inet'), { minLength: 1, maxLength: 40 }),
          async (rules) => {
            const operations = fuzzTable(addresses, rules);
            const nft = await nftBytecode(netns, family, 'fuzz', operations);
            const comparison = compareWithNft(compileOperations(family, 'fuzz', operations), nft.rules);
            expect(comparison.mismatches).toEqual([]);
            expect(comparison.rules).toBe(rules.length);
          },
        ),
        { numRuns: 20 },
      );
    });
  }

  // ip and ip6 tables: in inet tables nft keeps or drops the `meta nfproto` match of an ICMP
  // reject depending on the statements between them, which the decompiler does not follow yet.
  for (const { family, addresses } of cases.filter((c) => c.family !== 'inet')) {
    it(`${family} table, ${addresses} rules: printed back from our expressions as nft lists them`, async () => {
      const netns = await scope.create();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          // nft 1.0.6 lists `sctp sport >= 1 sctp dport <= 1` as `sctp dport 1-1` (it joins bounds
          // on different fields into one range, losing one): such rules print correctly here,
          // not as nft lists them, so the comparison leaves them out.
          fc.array(
            ruleText(addresses).filter((r) => !LOSSY_NFT_RANGE.test(r)),
            { minLength: 1, maxLength: 30 },
          ),
          async (rules) => {
            const table = `fuzz${run++}`;
            const operations = fuzzTable(addresses, rules);
            await netns.exec('nft', ['-f', '-'], {
              input: renderScript(family, table, operations, { emulateDestroy: false }),
            });
            const listed = await new NftablesClient({
              family,
              table,
              runner: netnsRunner(netns.path),
            }).list();
            await netns.exec('nft', ['delete', 'table', family, table]);
            const sets = setsOf(operations);
            const batch = newRuleBatch();
            let id = 0;
            const printed = rules.map((rule) => {
              const compiled = compileRule({
                family,
                table,
                chain: 'rules',
                rule,
                sets,
                batch,
                allocateSet: (kind) => ({ name: `__${kind}${id}`, setId: ++id }),
              });
              return decompileRule(compiled.expressions, {
                family,
                anonymousSets: new Map(compiled.anonymousSets.map((a) => [a.name, a])),
              });
            });
            expect(printed).toEqual((listed.rules.rules ?? []).map((r) => r.rule));
          },
        ),
        { numRuns: 10 },
      );
    });
  }
});
