/** Base class: every error this package throws has a stable `code`. */
export abstract class NetfilterError extends Error {
  abstract readonly code: string;
}

/** A field of a rule, chain or object has a value the kernel or the tools would reject. */
export class InvalidFieldError extends NetfilterError {
  readonly code = 'NETFILTER_INVALID_FIELD';
  constructor(
    /** Where the value sits, e.g. `nat/KUBE-SVC-X rule 3 destination`. */
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field}: ${JSON.stringify(value)} ${reason}`);
    this.name = 'InvalidFieldError';
  }
}

/** A rule jumps to a chain that is neither built in nor declared, or names an unknown target. */
export class UnknownTargetError extends NetfilterError {
  readonly code = 'NETFILTER_UNKNOWN_TARGET';
  constructor(
    readonly field: string,
    readonly target: string,
  ) {
    super(`${field}: target ${JSON.stringify(target)} is neither a built-in target nor a declared chain`);
    this.name = 'UnknownTargetError';
  }
}

/** Text in iptables-save or nft format that this package cannot read. */
export class ParseError extends NetfilterError {
  readonly code = 'NETFILTER_PARSE_ERROR';
  constructor(
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}: ${text}`);
    this.name = 'ParseError';
  }
}

/**
 * iptables-restore / nft rejected a payload. Nothing was applied: both tools commit a table
 * (iptables) or a whole script (nft) as one kernel transaction.
 */
export class ApplyError extends NetfilterError {
  readonly code = 'NETFILTER_APPLY_FAILED';
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
    super(`${command[0]} failed${where}: ${stderr.trim()}`);
    this.name = 'ApplyError';
  }
}

/** An nftables transaction or fake operation refers to an object that does not exist, or re-creates one. */
export class ObjectReferenceError extends NetfilterError {
  readonly code = 'NETFILTER_OBJECT_REFERENCE';
  constructor(
    readonly field: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${field}: ${JSON.stringify(value)} ${reason}`);
    this.name = 'ObjectReferenceError';
  }
}
