// Gives resident pages the single executables no longer use back to the kernel, so their RSS
// is their working set rather than everything start-up ever touched. Built by
// tools/sea/page-release-build.mjs into an N-API addon embedded in each executable; loaded by
// tools/sea/page-release.cjs. Its calls:
//
// releaseExecutablePages(): drops this process's page-table entries for the pages of its own
// executable (the Node runtime: V8, ICU data, OpenSSL, Node's built-in JS, the injected script)
// that are present and still the file's own pages. Start-up touches ~35-65 MiB of them (with
// the kernel's fault-around, 64 KB per touched page); an idle daemon uses far fewer. The pages
// stay in the page cache; one the process touches again is mapped back by a minor fault. Only
// read-only private mappings are considered, and in them only pages the pagemap reports as
// file pages: a page the process wrote to (relocations before RELRO made it read-only) is an
// anonymous copy whose contents exist nowhere else, and MADV_DONTNEED would discard it.
// The native addons the executable embeds (embedded-addon.cjs: written to a private
// `nodeagent-addon-*` directory, opened and deleted) are released the same way: kube-proxy's
// koffi, opened for one setsockopt at its first large batch, otherwise kept 2.2 MiB of its
// pages resident for the life of the process (issue #54).
//
// evictExecutableCache(): releases the executable's pages as above and at once asks the kernel
// to drop the page cache of the executable's file (posix_fadvise DONTNEED; pages some process
// still maps stay). Why: a file written in large chunks (a build, an installer) is cached in
// large folios, up to 2 MiB each, and the kernel (6.18 here) maps a whole folio on a fault, so
// each piece of text the process touches after a release comes back as up to 2 MiB of RSS
// instead of the 64 KB of fault-around. Read back page by page, the file is cached in small
// folios; so the pages that were cached are read back at once (read_back below), not by the
// faults of the code that runs next, each of which would wait for the disk. It evicts only when
// a sample of the executable's resident pages shows large folios (executableInLargeFolios
// below) or when that cannot be told: once the file is cached in small folios, an eviction only
// cost ~20 ms of kernel time (issue #51). While the sample shows pages not yet written back, it
// waits for a later call (see evict_executable_cache). Returns the bytes of the file that left
// the cache before the read-back (counted with mincore over a mapping of the whole file; 0 when
// it was left alone), or -1 when the file cannot be read.
//
// executableInLargeFolios(): whether the executable's resident pages sit in large folios: the
// first present file page of every 2 MiB of its read-only mappings is looked up in
// /proc/kpageflags by its page frame from the pagemap, and more than a quarter of them must be
// parts of large folios (a copy of the Node runtime just written: all of 7-38 sampled pages; the
// same file evicted and read back by faults: 1-2 of 7-38, the folios mapped while the eviction
// ran, which it cannot drop). true or false, or null when it cannot be told (the page frames are
// hidden without CAP_SYS_ADMIN; no /proc/kpageflags).
//
// releaseMallocFree(): glibc's malloc_trim(0), which returns the free pages inside every malloc
// arena (not only the top of the main heap) to the kernel. Node never calls it; after a burst
// (a full sync's rule text, a pod start's buffers) the freed memory otherwise stays resident.
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

// /proc/<pid>/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
#define PM_PRESENT (1ULL << 63)
#define PM_FILE_OR_SHARED_ANON (1ULL << 61)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PAGEMAP_BATCH 512
// /proc/kpageflags bits (Documentation/admin-guide/mm/pagemap.rst): not yet written back, being
// written back, parts of a large folio.
#define KPF_DIRTY (1ULL << 4)
#define KPF_WRITEBACK (1ULL << 8)
#define KPF_COMPOUND_HEAD (1ULL << 15)
#define KPF_COMPOUND_TAIL (1ULL << 16)

// Releases one range of pages; returns the bytes released.
static size_t release_range(uintptr_t start, uintptr_t end) {
  if (end <= start) return 0;
  return madvise((void *)start, end - start, MADV_DONTNEED) == 0 ? end - start : 0;
}

// Releases the present file pages of [start, end); returns the bytes released.
static size_t release_file_pages(int pagemap, uintptr_t start, uintptr_t end, size_t page) {
  uint64_t entries[PAGEMAP_BATCH];
  size_t released = 0;
  uintptr_t run = 0;  // start of the current run of releasable pages, 0 for none
  for (uintptr_t at = start; at < end; at += page * PAGEMAP_BATCH) {
    size_t count = (end - at) / page;
    if (count > PAGEMAP_BATCH) count = PAGEMAP_BATCH;
    ssize_t got = pread(pagemap, entries, count * sizeof entries[0], (off_t)(at / page * sizeof entries[0]));
    if (got != (ssize_t)(count * sizeof entries[0])) {
      // Unreadable: leave this batch alone.
      released += run ? release_range(run, at) : 0;
      run = 0;
      continue;
    }
    for (size_t i = 0; i < count; i++) {
      uintptr_t addr = at + i * page;
      int releasable = (entries[i] & PM_PRESENT) && (entries[i] & PM_FILE_OR_SHARED_ANON);
      if (releasable && !run) run = addr;
      if (!releasable && run) {
        released += release_range(run, addr);
        run = 0;
      }
    }
  }
  return released + (run ? release_range(run, end) : 0);
}

// What a walk over the executable's mappings does with each: `visit` gets the pagemap, the
// range and the page size, and returns what it adds to the walk's total.
typedef size_t (*mapping_visitor)(int pagemap, uintptr_t start, uintptr_t end, size_t page, void *ctx);

// Whether a /proc/self/maps line maps an addon embedded-addon.cjs loaded: a file in a
// `nodeagent-addon-*` directory, deleted right after it was opened.
static int is_embedded_addon(const char *line) {
  static const char deleted[] = ".node (deleted)\n";
  size_t length = strlen(line), suffix = sizeof deleted - 1;
  return strstr(line, "/nodeagent-addon-") != NULL && length > suffix &&
         strcmp(line + length - suffix, deleted) == 0;
}

// Walks /proc/self/maps for read-only private mappings of the running executable (matched by
// device and inode, so a replaced or deleted file on disk does not matter), and with
// `with_addons` of its embedded addons too; returns the sum of what `visit` returned.
static size_t each_executable_mapping(mapping_visitor visit, void *ctx, int with_addons) {
  struct stat exe;
  if (stat("/proc/self/exe", &exe) != 0) return 0;
  FILE *maps = fopen("/proc/self/maps", "re");
  if (!maps) return 0;
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) {
    fclose(maps);
    return 0;
  }
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t total = 0;
  char line[4096];
  while (fgets(line, sizeof line, maps)) {
    unsigned long start, end, inode;
    unsigned int major_dev, minor_dev;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s %*x %x:%x %lu", &start, &end, perms, &major_dev, &minor_dev, &inode) != 6)
      continue;
    if (perms[1] == 'w' || perms[3] != 'p') continue;
    int executable = inode == exe.st_ino && makedev(major_dev, minor_dev) == exe.st_dev;
    if (!executable && !(with_addons && is_embedded_addon(line))) continue;
    total += visit(pagemap, start, end, page, ctx);
  }
  close(pagemap);
  fclose(maps);
  return total;
}

static size_t release_visitor(int pagemap, uintptr_t start, uintptr_t end, size_t page, void *ctx) {
  (void)ctx;
  return release_file_pages(pagemap, start, end, page);
}

static size_t release_executable_pages(void) {
  return each_executable_mapping(release_visitor, NULL, 1);
}

// The large-folio sample's tally: pages looked up, pages in large folios, pages not yet clean
// (dirty or being written back), and whether a page frame could not be looked up (hidden, or no
// /proc/kpageflags).
struct folio_sample {
  int kpageflags;
  size_t checked;
  size_t large;
  size_t unclean;
  int unknown;
};

// Looks up the first present file page of each PAGEMAP_BATCH pages of [start, end).
static size_t folio_visitor(int pagemap, uintptr_t start, uintptr_t end, size_t page, void *ctx) {
  struct folio_sample *sample = ctx;
  uint64_t entries[PAGEMAP_BATCH];
  for (uintptr_t at = start; at < end; at += page * PAGEMAP_BATCH) {
    size_t count = (end - at) / page;
    if (count > PAGEMAP_BATCH) count = PAGEMAP_BATCH;
    ssize_t got = pread(pagemap, entries, count * sizeof entries[0], (off_t)(at / page * sizeof entries[0]));
    if (got != (ssize_t)(count * sizeof entries[0])) continue;
    for (size_t i = 0; i < count; i++) {
      if (!(entries[i] & PM_PRESENT) || !(entries[i] & PM_FILE_OR_SHARED_ANON)) continue;
      uint64_t pfn = entries[i] & PM_PFN_MASK, flags = 0;
      if (pfn == 0 || pread(sample->kpageflags, &flags, sizeof flags, (off_t)(pfn * sizeof flags)) != sizeof flags) {
        sample->unknown = 1;
      } else {
        sample->checked++;
        if (flags & (KPF_COMPOUND_HEAD | KPF_COMPOUND_TAIL)) sample->large++;
        if (flags & (KPF_DIRTY | KPF_WRITEBACK)) sample->unclean++;
      }
      break;
    }
  }
  return 0;
}

// Samples the executable's resident pages into `sample`; 0 when each sampled page was looked up,
// -1 when it cannot be told.
static int sample_executable_folios(struct folio_sample *sample) {
  *sample = (struct folio_sample){open("/proc/kpageflags", O_RDONLY | O_CLOEXEC), 0, 0, 0, 0};
  if (sample->kpageflags < 0) return -1;
  each_executable_mapping(folio_visitor, sample, 0);
  close(sample->kpageflags);
  return sample->unknown || sample->checked == 0 ? -1 : 0;
}

// 1 when over a quarter of the sampled resident pages of the executable sit in large folios, 0
// when fewer do, -1 when it cannot be told.
static int executable_in_large_folios(void) {
  struct folio_sample sample;
  if (sample_executable_folios(&sample) < 0) return -1;
  return sample.large * 4 > sample.checked ? 1 : 0;
}

// Which pages of the file behind `fd` (size `size`, `pages` pages) are in the page cache: mincore's
// vector (bit 0 of each byte), to be freed by the caller; NULL when it cannot be told.
static unsigned char *cached_pages(int fd, size_t size, size_t pages) {
  if (size == 0) return NULL;
  void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return NULL;
  unsigned char *vec = malloc(pages);
  if (vec && mincore(map, size, vec) != 0) {
    free(vec);
    vec = NULL;
  }
  munmap(map, size);
  return vec;
}

// Bytes of the pages `vec` marks cached.
static double cached_bytes(const unsigned char *vec, size_t pages, size_t page) {
  double bytes = 0;
  for (size_t i = 0; i < pages; i++) bytes += (vec[i] & 1) ? (double)page : 0;
  return bytes;
}

// Bytes one POSIX_FADV_WILLNEED asks for: the kernel reads at most the device's readahead
// window per call (force_page_cache_ra: the larger of read_ahead_kb and the device's optimal
// I/O size, 128 KiB by default), so a longer range would be read only at its start.
#define READ_BACK_CHUNK (128 * 1024)

// Asks the kernel to read the pages `vec` marks cached back into the page cache
// (POSIX_FADV_WILLNEED: the I/O is started here and completes in the background). Read ahead this
// way, the file is cached in folios of the mapping's minimum order (single pages unless the
// file system's blocks are larger), as when faults read it back one by one; but the next code
// the process runs finds its pages cached, where a fault otherwise waited for the disk (issue
// #54: kube-proxy's first endpoint change after the eviction of a fresh, synced copy took 12.0
// and 17.9 ms, read back 5.7 and 5.4 ms).
static void read_back(int fd, const unsigned char *vec, size_t pages, size_t page) {
  size_t per_chunk = READ_BACK_CHUNK / page;
  for (size_t first = 0; first < pages; first += per_chunk) {
    size_t count = pages - first < per_chunk ? pages - first : per_chunk;
    int any = 0;
    for (size_t i = first; i < first + count && !any; i++) any = vec[i] & 1;
    if (any) posix_fadvise(fd, (off_t)(first * page), (off_t)(count * page), POSIX_FADV_WILLNEED);
  }
}

static double evict_executable_cache(void) {
  struct folio_sample sample;
  if (sample_executable_folios(&sample) == 0) {
    // Small folios already: nothing to gain.
    if (sample.large * 4 <= sample.checked) return 0;
    // Not yet written back (a file installed just before the start): the advice would start the
    // writeback from this thread, which then waits for the disk (the main thread of kube-proxy
    // in D state for 100 ms, an endpoint change arriving meanwhile 24 ms late, issue #54), and
    // it can evict only clean pages anyway. A later call evicts once the kernel wrote it back.
    if (sample.unclean > 0) return 0;
  }
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t size = fstat(fd, &st) == 0 ? (size_t)st.st_size : 0;
  size_t pages = (size + page - 1) / page;
  unsigned char *before = cached_pages(fd, size, pages);
  double evicted = -1;
  if (before) {
    // Released here, right before the advice: a page mapped again in between (JS running the
    // call, as any release from JS would allow) cannot be evicted, and its large folio would stay.
    release_executable_pages();
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0) {
      unsigned char *after = cached_pages(fd, size, pages);
      if (after) evicted = cached_bytes(before, pages, page) - cached_bytes(after, pages, page);
      free(after);
    }
    read_back(fd, before, pages, page);
    free(before);
  }
  close(fd);
  return evicted;
}

static napi_value EvictExecutableCache(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_double(env, evict_executable_cache(), &out);
  return out;
}

static napi_value ReleaseExecutablePages(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_double(env, (double)release_executable_pages(), &out);
  return out;
}

static napi_value ExecutableInLargeFolios(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  int large = executable_in_large_folios();
  if (large < 0)
    napi_get_null(env, &out);
  else
    napi_get_boolean(env, large == 1, &out);
  return out;
}

static napi_value ReleaseMallocFree(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "releaseExecutablePages", NAPI_AUTO_LENGTH, ReleaseExecutablePages, NULL, &fn);
  napi_set_named_property(env, exports, "releaseExecutablePages", fn);
  napi_create_function(env, "evictExecutableCache", NAPI_AUTO_LENGTH, EvictExecutableCache, NULL, &fn);
  napi_set_named_property(env, exports, "evictExecutableCache", fn);
  napi_create_function(env, "executableInLargeFolios", NAPI_AUTO_LENGTH, ExecutableInLargeFolios, NULL, &fn);
  napi_set_named_property(env, exports, "executableInLargeFolios", fn);
  napi_create_function(env, "releaseMallocFree", NAPI_AUTO_LENGTH, ReleaseMallocFree, NULL, &fn);
  napi_set_named_property(env, exports, "releaseMallocFree", fn);
  return exports;
}
