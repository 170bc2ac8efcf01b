import { NftTransaction } from '@nodeagent/netfilter/nftables';
import type { Netns } from '@nodeagent/testing';
import { defaultNftables, type ProxierNftables } from '../../src/nftables/index';

/**
 * The node namespace's kube-proxy table as kube-proxy's default picks it: netlink (no nft
 * process), unless KP_NFT_TEST_BACKEND=nft asks for the nft binary. A netlink socket that cannot
 * be opened fails the test instead of falling back silently.
 */
export function nodeNftables(family: 'ip' | 'ip6', node: Netns): ProxierNftables {
  const prefer = process.env.KP_NFT_TEST_BACKEND === 'nft' ? 'nft' : 'netlink';
  const nftables = defaultNftables({
    family,
    prefer,
    netnsPath: node.path,
    commandPrefix: ['ip', 'netns', 'exec', node.name],
    onFallback: (err) => {
      throw err;
    },
  });
  // Open the socket (start the netlink relay in the namespace) now, during the test's set-up,
  // not inside the first test's wait for traffic. A failure shows again at the first sync.
  nftables.check(new NftTransaction()).catch(() => undefined);
  return nftables;
}
