import { lazyNetlinkAddon, NETLINK_ADDON_HINT } from '@nodeagent/primitives/netlink';
import type * as Netlink from 'netlink';
import { IpvsUnavailableError } from './errors';

/**
 * The `netlink` package, loaded on first use rather than when this package is imported (see
 * lazyNetlinkAddon): the codecs, the fake and the errors work where no native addon fits, and
 * opening a socket there rejects with IpvsUnavailableError saying why. A failed load is retried
 * on the next call.
 */
export const loadNetlinkAddon: () => Promise<typeof Netlink> = lazyNetlinkAddon<typeof Netlink>(
  () => import('netlink'),
  (reason) =>
    new IpvsUnavailableError(
      reason,
      `IPVS is not available to this process: ${reason} (${NETLINK_ADDON_HINT})`,
    ),
);
