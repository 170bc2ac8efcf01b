import { lazyNetlinkAddon } from '@nodeagent/primitives/netlink';
import type * as Netlink from 'netlink';
import { NftNetlinkUnavailableError } from './errors';

/**
 * The `netlink` package, loaded on first use and not when this package is imported (see
 * lazyNetlinkAddon): everything that needs no socket (the model, scripts, the `nft` client, the
 * codecs) works where no native addon fits. A failed load becomes NftNetlinkUnavailableError and
 * is retried on the next call.
 */
export const loadNetlinkAddon: () => Promise<typeof Netlink> = lazyNetlinkAddon<typeof Netlink>(
  () => import('netlink'),
  (reason) => new NftNetlinkUnavailableError(reason),
);
