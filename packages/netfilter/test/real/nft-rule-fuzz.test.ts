import { NetnsScope } from '@nodeagent/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzTable, ruleText } from '../nft-rule-arbitraries';
import { compareWithNft, compileOperations, nftBytecode } from './nft-rule-oracle-harness';

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
});
