/**
 * What the kubelet uses of koffi (the FFI library behind the open-files limit and the logind
 * lock's file descriptor): the same on the npm package and on the libc calls a single executable
 * answers its import with.
 */
export interface Koffi {
  load(path: string): LibcLibrary;
  alloc(type: string, length: number): unknown;
  free(pointer: unknown): void;
  address(pointer: unknown): bigint;
  view(pointer: unknown, length: number): ArrayBuffer;
  errno(): number;
}

/** The C library as koffi loaded it: a function per C signature. */
export interface LibcLibrary {
  func(signature: string): (...args: never[]) => number;
}

let loaded: Promise<{ koffi: Koffi; libc: LibcLibrary }> | undefined;

/**
 * koffi and libc.so.6, loaded once for every caller, the first time one needs them (never on a
 * start that does not). A literal import(), which bundlers follow: the executable answers it
 * with its own libc calls. A failed load (no koffi, no prebuilt addon for this platform) is tried
 * again at the next call; callers word the failure as upstream does for their call.
 */
export function loadLibc(): Promise<{ koffi: Koffi; libc: LibcLibrary }> {
  loaded ??= import('koffi')
    .then((m: { default?: Koffi } & Partial<Koffi>) => {
      const koffi = (m.default ?? m) as Koffi;
      return { koffi, libc: koffi.load('libc.so.6') };
    })
    .catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
  return loaded;
}
