import { NftTransaction } from '@nodeagent/netfilter/nftables';
import { describe, expect, it } from 'vitest';
import { defaultNftables } from '../src/nftables/index';

describe('defaultNftables', () => {
  it('falls back to the nft binary, once, when the netlink socket cannot be opened', async () => {
    const fallbacks: unknown[] = [];
    // `true` stands in for nft: the fallback's commands run as `true nft …` and succeed.
    const nft = defaultNftables({
      family: 'ip',
      netnsPath: '/nonexistent/netns/for-the-test',
      commandPrefix: ['true'],
      session: false,
      onFallback: (err) => fallbacks.push(err),
    });
    expect(nft.family).toBe('ip');
    expect(nft.table).toBe('kube-proxy');
    const tx = new NftTransaction().add({ kind: 'table' });
    await nft.check(tx);
    await nft.run(tx);
    expect(fallbacks).toHaveLength(1);
    expect(String((fallbacks[0] as Error).message)).toContain('/nonexistent/netns/for-the-test');
    await nft.close?.();
  });
});
