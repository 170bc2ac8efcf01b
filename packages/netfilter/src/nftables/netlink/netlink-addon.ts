import type * as Netlink from 'netlink';
import { NftNetlinkUnavailableError } from './errors';

let loading: Promise<typeof Netlink> | undefined;

/**
 * The `netlink` package, loaded on first use and not when this package is imported: its native
 * addon exists prebuilt for glibc Linux x64/arm64/arm/ia32 only, and everything that needs no
 * socket (the model, scripts, the `nft` client, the codecs) must work elsewhere too. A failed
 * load becomes NftNetlinkUnavailableError and is retried on the next call.
 */
export function loadNetlinkAddon(): Promise<typeof Netlink> {
  loading ??= import('netlink').then(
    // Node's ESM view of this CommonJS package has its exports both named and under default.
    (mod) => ((mod as { default?: typeof Netlink }).default ?? mod) as typeof Netlink,
    (err: unknown) => {
      loading = undefined;
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new NftNetlinkUnavailableError(`the native "netlink" addon could not be loaded: ${why}`);
    },
  );
  return loading;
}
