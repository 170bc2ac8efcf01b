import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffRulesets, parseSave, renderRestore, validateRuleset } from '../src/iptables/index';
import { rulesetArb } from './arbitraries';

describe('iptables model properties', () => {
  it('generated models are valid', () => {
    fc.assert(
      fc.property(rulesetArb, (ruleset) => validateRuleset(ruleset)),
      { numRuns: 200 },
    );
  });

  it('render → parse round-trips to a semantically equal model', () => {
    fc.assert(
      fc.property(rulesetArb, (ruleset) => {
        const parsed = parseSave(renderRestore(ruleset));
        expect(diffRulesets(ruleset, parsed).tables).toEqual([]);
        // And the parse is stable: rendering it again gives the same text.
        expect(renderRestore(parsed)).toBe(renderRestore(ruleset));
      }),
      { numRuns: 200 },
    );
  });

  it('the diff of a model with itself is empty', () => {
    fc.assert(
      fc.property(rulesetArb, (ruleset) => {
        expect(diffRulesets(ruleset, ruleset).tables).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
