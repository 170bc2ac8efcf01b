import { readFile } from 'node:fs/promises';
import { type SmapsMapping, smapsMappings } from './smaps';

// A Node process's anonymous memory is one number in /proc/<pid>/status (RssAnon) and in its
// cgroup (anon), but it has two owners that answer to different fixes: glibc's malloc (native
// buffers, addons, OpenSSL) and V8's heap. V8's figures (heapTotal, the spaces' committed size)
// leave out the pages its pool keeps after a collection frees them, so anon minus V8's committed
// heap does not say which of the two holds the rest. The mappings do: each allocator maps memory
// in a shape of its own.

/** glibc's non-main arenas are heaps of this size, aligned to it (HEAP_MAX_SIZE on 64-bit). */
const ARENA_HEAP_BYTES = 64n * 1024n * 1024n;
/** V8 maps each regular page of its heap on its own, this size and aligned to it. */
const V8_PAGE_BYTES = 256n * 1024n;

/** Resident anonymous memory of a process by the kind of mapping that holds it, in bytes. */
export interface AnonMappings {
  /** glibc's main arena (`[heap]`, grown by brk): the main thread's malloc. */
  mallocHeapBytes: number;
  /** glibc's other arenas: the heaps of the other threads that malloc (64 MiB-aligned). */
  mallocArenaBytes: number;
  /** 256 KiB mappings: V8's regular heap pages, those in use and those its pool keeps. */
  v8PageBytes: number;
  /**
   * Executable mappings: V8's code range, one reservation that its code space's pages are made
   * in, so compiled code is not among the 256 KiB pages.
   */
  v8CodeBytes: number;
  /** The rest: V8's large objects, thread stacks, copied-on-write pages of files. */
  otherBytes: number;
}

type Kind = keyof AnonMappings;

/** The kind of one mapping, from its header's fields. */
function kindOf({ start, end, perms, name }: SmapsMapping): Kind {
  if (name === '[heap]') return 'mallocHeapBytes';
  if (name !== '') return 'otherBytes';
  // Only a JIT maps anonymous memory executable; in Node that is V8's code range.
  if (perms.includes('x')) return 'v8CodeBytes';
  if (!perms.startsWith('rw')) return 'otherBytes';
  if (end - start === V8_PAGE_BYTES && start % V8_PAGE_BYTES === 0n) return 'v8PageBytes';
  // An arena's heap starts on a 64 MiB boundary; its unused tail is a ---p mapping after it.
  if (start % ARENA_HEAP_BYTES === 0n && end - start <= ARENA_HEAP_BYTES) return 'mallocArenaBytes';
  return 'otherBytes';
}

/** The `Anonymous:` lines of /proc/<pid>/smaps text, summed by the kind of mapping they belong to. */
export function anonMappings(smaps: string): AnonMappings {
  const sums: AnonMappings = {
    mallocHeapBytes: 0,
    mallocArenaBytes: 0,
    v8PageBytes: 0,
    v8CodeBytes: 0,
    otherBytes: 0,
  };
  for (const mapping of smapsMappings(smaps, 'Anonymous')) sums[kindOf(mapping)] += mapping.bytes;
  return sums;
}

/** anonMappings of a running process. */
export async function readAnonMappings(pid: number): Promise<AnonMappings> {
  return anonMappings(await readFile(`/proc/${pid}/smaps`, 'utf8'));
}
