// The rule compiler: nft rule text → NFTA_RULE_EXPRESSIONS (+ the anonymous sets it needs and
// the comment as NFTA_RULE_USERDATA), and the reverse reading of expressions.

import { compileRuleExpressions } from './compile-rule';
import { encodeExpressions } from './encode-expressions';
import type { CompiledRule, CompileRuleInput } from './types';
import { ruleCommentUserdata } from './userdata';

export {
  type CompiledExpressions,
  compileRuleExpressions,
  newRuleBatch,
  parseTimeout,
  typeofToType,
} from './compile-rule';
export { anonymousSetDebugLines, dataWords, debugLine, debugLines, elementDebugText } from './debug-text';
export { decodeExpressions } from './decode-expressions';
export { encodeExpressions } from './encode-expressions';
export { NftExpressionDecodeError, NftRuleSetError, NftRuleSyntaxError } from './errors';
export type { NftExpression } from './expressions';
export { parseRule } from './parse-rule';
export type * from './types';
export { ruleCommentFromUserdata, ruleCommentUserdata } from './userdata';

/** Compile one rule for NEWRULE: its expressions, anonymous sets and comment userdata. */
export function compileRule(input: CompileRuleInput): CompiledRule {
  const { expressions, anonymousSets } = compileRuleExpressions(input);
  const compiled: CompiledRule = { expressions: encodeExpressions(expressions), anonymousSets };
  if (input.comment !== undefined) compiled.userdata = ruleCommentUserdata(input.comment);
  return compiled;
}
export {
  type AnonymousSetContents,
  type DecompileContext,
  decompileRule,
  formatValue,
} from './decompile-rule';
