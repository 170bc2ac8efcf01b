// What the netlink writer of iptables-nft objects refuses: a rule shape whose translation by
// iptables-nft 1.8.9 this package does not reproduce. The caller falls back to iptables-restore
// for the whole payload (never writes something iptables-save would print differently).

import { NetfilterError } from '../../errors';

/** A rule (or chain) the iptables-nft netlink encoder cannot write as iptables-nft would. */
export class IptablesNftUnsupportedError extends NetfilterError {
  constructor(
    /** Where the rule sits, e.g. `nat/KUBE-SEP-X rule 2`. */
    readonly field: string,
    /** The match or target kind that has no encoding here. */
    readonly shape: string,
  ) {
    super('IPTABLES_NFT_UNSUPPORTED', `${field}: ${shape} has no iptables-nft netlink encoding here`);
  }
}
