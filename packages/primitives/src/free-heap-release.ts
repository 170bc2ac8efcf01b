// glibc keeps resident the chunks a process frees: only free memory at the top of its heap goes
// back to the system, never free chunks below a live one. A relist streams tens of MiB of
// network buffers that V8 frees together at a later collection, in the middle of the heap, so
// that peak stayed charged to kube-proxy's cgroup for the rest of its life (the soak: 23–27 MiB
// of free heap resident after one API server restart). malloc_trim(0) hands back the whole pages
// of every free chunk (MADV_DONTNEED); glibc reuses them as before, zero-filled when touched
// again. Go's runtime returns its free pages the same way, so upstream's agents pay no such
// peak after the fact. The kubelet's pod churn and relists leave the same free chunks behind.

/**
 * Once a minute, so a relist's peak is not paid for long. A pass is not free: it hands back each
 * free chunk's pages one madvise at a time on the calling thread (an hour of the soak: 9–12 ms of
 * that thread's CPU at the median, 30 at most).
 */
export const FREE_HEAP_RELEASE_INTERVAL_MS = 60_000;

/** Hands glibc's free heap pages back to the system; returns whether any were. */
export type TrimFreeHeap = () => boolean;

/** What this module uses of koffi, the same on the npm package and in an executable. */
interface Koffi {
  load(path: string): { func(signature: string): unknown };
}

/**
 * glibc's malloc_trim(0) through koffi, which `loadKoffi` imports: the caller's own literal
 * dynamic import of koffi, so that a bundler sees it and a single executable answers it with its
 * own libc calls, while this package itself needs no koffi. Undefined where koffi does not
 * load or the C library has no malloc_trim (musl).
 */
export async function glibcTrimFreeHeap(
  loadKoffi: () => Promise<unknown>,
): Promise<TrimFreeHeap | undefined> {
  try {
    const m = (await loadKoffi()) as { default?: Koffi } & Partial<Koffi>;
    const libc = ((m.default ?? m) as Koffi).load('libc.so.6');
    const trim = libc.func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => trim(0) === 1;
  } catch {
    return undefined;
  }
}

/** Calls `trim` every `intervalMs` on a timer that does not keep the process alive; returns its stop. */
export function releaseFreeHeapPeriodically(
  trim: TrimFreeHeap,
  intervalMs = FREE_HEAP_RELEASE_INTERVAL_MS,
): () => void {
  const timer = setInterval(trim, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

// V8's pooled pages are the other free heap an agent keeps; why they need a script is there.
export { keepV8MemoryReducerAlive, MEMORY_REDUCER_PULSE_INTERVAL_MS } from './v8-memory-reducer';
