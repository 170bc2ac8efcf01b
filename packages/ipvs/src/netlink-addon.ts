import type * as Netlink from 'netlink';
import { IpvsUnavailableError } from './errors';

let loading: Promise<typeof Netlink> | undefined;

/**
 * The `netlink` package, loaded on first use rather than when this package is imported: it
 * loads a native addon (prebuilt for glibc Linux x64, arm64, arm and ia32 only), and where none
 * fits (musl, macOS, another arch, a bundle without it) importing it throws. Everything that
 * needs no socket (the codecs, the fake, the errors) must work there too; opening a socket
 * rejects with IpvsUnavailableError saying why. A failed load is retried on the next call.
 */
export function loadNetlinkAddon(): Promise<typeof Netlink> {
  loading ??= import('netlink').then(
    // Node's ESM view of this CommonJS package has its exports both named and under default.
    (mod) => ((mod as { default?: typeof Netlink }).default ?? mod) as typeof Netlink,
    (err: unknown) => {
      loading = undefined;
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      const reason = `the native "netlink" addon could not be loaded: ${why}`;
      throw new IpvsUnavailableError(
        reason,
        `IPVS is not available to this process: ${reason} (the netlink package has prebuilt addons for glibc Linux x64, arm64, arm and ia32; elsewhere npm builds it from source at install and, as it is an optional dependency, leaves it out when that fails; a bundle must ship node_modules/netlink)`,
      );
    },
  );
  return loading;
}
