// The libc calls the `netlink` addon does not offer (SO_SNDBUFFORCE, a send from a worker
// thread), through koffi: a prebuilt FFI, an optional dependency. koffi is imported through a
// literal import(), which bundlers follow: the single executable (tools/sea/native-addons.mjs)
// answers it with its own addon of the libc calls the packages make.

/** A libc function as koffi binds it: callable here, or on a libuv worker thread through `async`. */
export interface LibcFunction<A extends unknown[], R> {
  (...args: A): R;
  async(...args: [...A, (err: unknown, result: R) => void]): void;
}

/** What this package uses of koffi: its `load().func()`, the same on the package and in an executable. */
interface Koffi {
  load(path: string): { func(signature: string): unknown };
}

let libc: Promise<{ func(signature: string): unknown } | null> | undefined;

/**
 * libc through koffi, loaded once per process; null when koffi is not installed or has no
 * prebuilt binary for this platform.
 */
export function loadLibc(): Promise<{ func(signature: string): unknown } | null> {
  libc ??= import('koffi').then(
    (m: { default?: Koffi } & Partial<Koffi>) => ((m.default ?? m) as Koffi).load('libc.so.6'),
    () => null,
  );
  return libc;
}
