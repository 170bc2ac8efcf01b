import { CodedError, errorPredicate } from '@nodeagent/primitives';

/** Base class: every error this package throws has a stable `code`. */
export abstract class NetfilterError extends CodedError {}

/** A field of a rule, chain or object has a value the kernel or the tools would reject. */
export class InvalidFieldError extends NetfilterError {
  constructor(
    /** Where the value sits, e.g. `nat/KUBE-SVC-X rule 3 destination`. */
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super('INVALID_FIELD', `${field}: ${JSON.stringify(value)} ${reason}`);
  }
}

/** A rule jumps to a chain that is neither built in nor declared, or names an unknown target. */
export class UnknownTargetError extends NetfilterError {
  constructor(
    readonly field: string,
    readonly target: string,
  ) {
    super(
      'UNKNOWN_TARGET',
      `${field}: target ${JSON.stringify(target)} is neither a built-in target nor a declared chain`,
    );
  }
}

/** Text in iptables-save or nft format that this package cannot read. */
export class ParseError extends NetfilterError {
  constructor(
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super('PARSE_ERROR', `line ${line}: ${reason}: ${text}`);
  }
}

/**
 * iptables-restore / nft rejected a payload. Nothing was applied: both tools commit a table
 * (iptables) or a whole script (nft) as one kernel transaction.
 */
export class ApplyError extends NetfilterError {
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    /** 1-based line of the payload the tool blamed, when it said. */
    readonly line: number | undefined,
    /** That line's text. */
    readonly lineText: string | undefined,
  ) {
    const where = line === undefined ? '' : ` at line ${line} (${lineText ?? ''})`;
    super('APPLY_FAILED', `${command[0]} failed${where}: ${stderr.trim()}`);
  }
}

/** An nftables transaction or fake operation refers to an object that does not exist, or re-creates one. */
export class ObjectReferenceError extends NetfilterError {
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super('OBJECT_REFERENCE', `${field}: ${JSON.stringify(value)} ${reason}`);
  }
}

/** Whether an error is an ApplyError, from either the ESM or the CJS build. */
export const isApplyError = errorPredicate(ApplyError);
/** Whether an error is a ParseError, from either the ESM or the CJS build. */
export const isParseError = errorPredicate(ParseError);
