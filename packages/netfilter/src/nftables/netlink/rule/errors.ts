// Typed errors of the rule compiler: each names the rule and the token it could not handle.

import { NetfilterError } from '../../../errors';

/** Rule text the compiler cannot read or does not support (syntax, unknown keyword, bad value). */
export class NftRuleSyntaxError extends NetfilterError {
  constructor(
    /** The whole rule text. */
    readonly rule: string,
    /** The token the compiler stopped at (`<end>` at the end of the rule). */
    readonly token: string,
    /** 0-based character offset of the token in the rule. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      'NFT_RULE_SYNTAX',
      `nft rule ${JSON.stringify(rule)}: ${reason} at ${JSON.stringify(token)} (offset ${offset})`,
    );
  }
}

/** A rule references a set or map the compiler was not told about, or uses it with the wrong shape. */
export class NftRuleSetError extends NetfilterError {
  constructor(
    readonly rule: string,
    readonly set: string,
    readonly reason: string,
  ) {
    super('NFT_RULE_SET', `nft rule ${JSON.stringify(rule)}: set @${set} ${reason}`);
  }
}

/** NFTA_RULE_EXPRESSIONS bytes that are not a well-formed expression this library reads. */
export class NftExpressionDecodeError extends NetfilterError {
  constructor(
    /** The expression name (NFTA_EXPR_NAME). */
    readonly expression: string,
    readonly reason: string,
  ) {
    super('NFT_EXPRESSION_DECODE', `nf_tables expression ${JSON.stringify(expression)}: ${reason}`);
  }
}
