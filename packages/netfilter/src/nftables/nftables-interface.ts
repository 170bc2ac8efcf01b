import type { NftFamily, NftRuleset } from './model';
import type { NftTransaction } from './transaction';

/** What code built on this package needs from nftables: the real client and the fake both implement it. */
export interface NftablesInterface {
  readonly family: NftFamily;
  readonly table: string;
  /** An empty transaction on the table. */
  newTransaction(): NftTransaction;
  /** Would the transaction apply? Changes nothing. */
  check(tx: NftTransaction): Promise<void>;
  /** Apply the transaction atomically: every operation or none. */
  run(tx: NftTransaction): Promise<void>;
  /** Read the table back. */
  list(): Promise<NftRuleset>;
}
