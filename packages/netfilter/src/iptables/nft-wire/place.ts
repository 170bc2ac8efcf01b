// Where a rule sits, for error messages only: a full sync encodes hundreds of thousands of rules
// and almost never fails, so the text (`nat/KUBE-SEP-X rule 2`) is made only when it is printed.

/** Anything that prints as a rule's place (`String(place)`). */
export interface Place {
  toString(): string;
}

/** One mutable place the encoder moves from rule to rule. */
export class RulePlace implements Place {
  table = '';
  chain = '';
  /** 1-based, as iptables numbers rules. */
  rule = 0;

  toString(): string {
    return `${this.table}/${this.chain} rule ${this.rule}`;
  }
}
