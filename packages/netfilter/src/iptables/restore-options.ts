// The options and result of a restore, shared by IptablesInterface and its implementations (a file
// of their own so the interface does not import the client that implements it).
import type { PayloadStats } from './payload-stats';
import type { RenderRestoreOptions } from './render-restore';
import type { ValidateOptions } from './validate';

/**
 * How to run iptables-restore:
 * - `noflush`: `--noflush` exactly as upstream kube-proxy does;
 * - `noflush-full-cache`: the same, plus a `-S` after each table header so iptables-nft fetches
 *   the whole table instead of building a per-chain cache list (see widenNftCache): the same
 *   single atomic transaction, much faster for payloads that declare thousands of chains;
 * - `auto`: `noflush-full-cache` on the nft back end when the payload is big enough to win
 *   and has no rules in built-in chains.
 */
export type RestoreStrategy = 'auto' | 'noflush' | 'noflush-full-cache';

/** How a ruleset is applied: strategy, counters and the kernel's existing chains. */
export interface RestoreOptions {
  strategy?: RestoreStrategy;
  /** `--counters`: take packet/byte counters from the payload. */
  counters?: boolean;
  /**
   * Checks before anything is written. By default every jump target of the payload must be a
   * target, a chain declared in it or one of `existingChains` (a fast text scan, see
   * checkPayloadReferences). `full: true` runs validateRuleset on a model as well (every field;
   * about 10× the cost of rendering). `false` skips both.
   */
  validate?: (ValidateOptions & { full?: boolean }) | false;
  render?: RenderRestoreOptions;
}

/** How a streamed payload is applied: strategy, counters and its expected size. */
export interface RestoreStreamOptions {
  strategy?: RestoreStrategy;
  /** `--counters`: take packet/byte counters from the payload. */
  counters?: boolean;
  /**
   * What the payload will hold, as far as the producer can tell before producing it: lets
   * `auto` choose the widened nft cache for a big payload (without it `auto` means
   * `noflush`) and is reported back as the result's counts. With it, `auto` on the nft back
   * end of a client given `nftNetlink` writes over netlink (a full sync's payload).
   */
  expected?: Pick<PayloadStats, 'chains' | 'rules' | 'builtinRules'>;
  /**
   * Sections to send after the stream in the same run, called once the stream has ended:
   * never cache-widened, so they may write built-in chains (which a widened section must
   * not, see widenNftCache) — e.g. jumps into chains the streamed sections just created,
   * without a second iptables-restore process. They commit after the streamed sections.
   */
  unwidenedTail?: () => string;
}

/** What an apply did: the strategy used and the size of what was applied. */
export interface RestoreResult {
  /** The tool's strategy, or `nft-netlink`: the payload went over netlink (IptablesClientOptions.nftNetlink). */
  strategy: Exclude<RestoreStrategy, 'auto'> | 'nft-netlink';
  chains: number;
  rules: number;
}
