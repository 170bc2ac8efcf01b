/**
 * Where the `netlink` package's native addon exists and what happens elsewhere: the tail of
 * each package's "unavailable" error message.
 */
export const NETLINK_ADDON_HINT =
  'the netlink package has prebuilt addons for glibc Linux x64, arm64, arm and ia32; elsewhere npm builds it from source at install and, as it is an optional dependency, leaves it out when that fails; a bundle must ship node_modules/netlink';

/**
 * A loader of the optional `netlink` package that loads it on first call, not at import: it
 * loads a native addon, and where none fits (musl, macOS, another arch, a bundle without it)
 * importing it throws, while everything that needs no socket (codecs, fakes, errors) must work
 * there too. `load` is the caller's own dynamic import of `netlink`, so the package that declares
 * the optional dependency is the one that imports it (and bundlers see it there). A failed load
 * rejects with `unavailable(reason)`, the caller's typed error, where `reason` is
 * `the native "netlink" addon could not be loaded: <first line of the import error>`; the next
 * call tries again. Node's ESM view of this CommonJS package has its exports both named and under
 * `default`; the loader returns the exports either way.
 */
export function lazyNetlinkAddon<T>(
  load: () => Promise<unknown>,
  unavailable: (reason: string) => Error,
): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().then(
      (mod) => ((mod as { default?: T }).default ?? mod) as T,
      (err: unknown) => {
        loading = undefined;
        const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
        throw unavailable(`the native "netlink" addon could not be loaded: ${why}`);
      },
    );
    return loading;
  };
}
