import { spawnSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as EmbeddedAddon from './embedded-addon.cjs';
import { ensureNode24 } from './node-runtime.mjs';
import { buildPageReleaseAddon, nodeIncludeDir } from './page-release-build.mjs';

const MiB = 1024 * 1024;

/** Runs `script` in the Node 24 runtime the executables embed, with the addon at ADDON; returns its JSON. */
function runWithAddon(node: string, addon: string, dir: string, name: string, script: string) {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(
    file,
    `const addon = require(${JSON.stringify(addon)});
const status = (k) => Number(require('node:fs').readFileSync('/proc/self/status', 'utf8').match(new RegExp(k + ':\\\\s+(\\\\d+) kB'))[1]) * 1024;
${script}`,
  );
  const r = spawnSync(node, ['--expose-gc', file], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

// The addon the single executables embed (tools/sea/page-release), compiled and loaded into the
// same Node 24 runtime; what it does is read from the process's own /proc/self/status.
describe('page release addon', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), `na-page-release-${process.pid}-`));
  let node = '';
  let addon = '';

  beforeAll(() => {
    node = ensureNode24().node;
    addon = buildPageReleaseAddon(join(dir, 'page-release.node'), nodeIncludeDir(node));
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("drops the executable's resident file pages, and the process runs on as before", () => {
    const out = runWithAddon(
      node,
      addon,
      dir,
      'pages',
      `const before = status('RssFile');
const released = addon.releaseExecutablePages();
const after = status('RssFile');
// Work that needs pages just released (V8's compilers, OpenSSL, ICU), releasing between rounds.
const crypto = require('node:crypto');
let digest = '';
for (let i = 0; i < 200; i++) {
  addon.releaseExecutablePages();
  digest = crypto.createHash('sha256').update(digest + i).digest('hex');
  JSON.parse(JSON.stringify({ i, s: 'x'.repeat(i) }));
}
const date = new Intl.DateTimeFormat('de-DE', { timeZone: 'UTC' }).format(new Date(0));
let expected = '';
for (let i = 0; i < 200; i++) expected = crypto.createHash('sha256').update(expected + i).digest('hex');
console.log(JSON.stringify({ before, released, after, same: digest === expected, date }));`,
    );
    // A bare Node process has touched ~35 MiB of its executable by the time it runs a script.
    expect(out.released).toBeGreaterThan(10 * MiB);
    expect(out.after).toBeLessThan(out.before - 10 * MiB);
    expect(out.same).toBe(true);
    expect(out.date).toBe('1.1.1970');
  });

  it('drops the resident pages of an addon loaded as the executables load their embedded ones, which runs on', () => {
    // koffi, as kube-proxy's executable opens it (embedded-addon.cjs: a private directory, the
    // file deleted once opened): its pages are the mapping's named `koffi.node (deleted)`.
    const koffiFile = join(
      dirname(createRequire(import.meta.url).resolve('koffi/package.json')),
      'build/koffi/linux_x64/koffi.node',
    );
    const out = runWithAddon(
      node,
      addon,
      dir,
      'addon-pages',
      `const { loadAddonBytes } = require(${JSON.stringify(join(import.meta.dirname, 'embedded-addon.cjs'))});
const koffi = loadAddonBytes(require('node:fs').readFileSync(${JSON.stringify(koffiFile)}), 'koffi.node', [${JSON.stringify(dir)}]);
/** Resident bytes of the koffi mapping(s), from /proc/self/smaps. */
function koffiRss() {
  let inKoffi = false, total = 0;
  for (const line of require('node:fs').readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inKoffi = line.endsWith('/koffi.node (deleted)');
    else if (inKoffi && line.startsWith('Rss:')) total += Number(line.split(/\\s+/)[1]) * 1024;
  }
  return total;
}
const getpid = koffi.load('libc.so.6').func('int getpid()');
const pidBefore = getpid();
const before = koffiRss();
addon.releaseExecutablePages();
const after = koffiRss();
console.log(JSON.stringify({ before, after, pidBefore, pidAfter: getpid(), pid: process.pid }));`,
    );
    // koffi's first call touched ~2.2 MiB of it; what stays is the pages the loader wrote
    // (relocations, data: ~170 KiB), anonymous copies the release leaves alone.
    expect(out.before).toBeGreaterThan(MiB);
    expect(out.after).toBeLessThan(256 * 1024);
    expect({ before: out.pidBefore, after: out.pidAfter }).toEqual({ before: out.pid, after: out.pid });
  });

  it("evicts the executable's page cache but for the pages still mapped, and the process runs on", () => {
    // A copy of the runtime written and synced here, so the eviction touches no other process's
    // file and finds it cached and clean.
    const copy = join(dir, 'node-copy');
    const fd = openSync(copy, 'w', 0o755);
    writeSync(fd, readFileSync(node));
    fsyncSync(fd);
    closeSync(fd);
    const size = statSync(copy).size;
    const out = runWithAddon(
      copy,
      addon,
      dir,
      'evict',
      `const largeBefore = addon.executableInLargeFolios();
addon.releaseExecutablePages();
const evicted = addon.evictExecutableCache();
// Major faults (field 12 of /proc/self/stat): a fault that had to wait for the disk.
const majorFaults = () => Number(require('node:fs').readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[9]);
// Work that needs pages of the executable again, read back from the file. Spread over much of
// its text (hashing, ICU, compression, regular expressions, the compilers): the check samples
// one resident page per 2 MiB, and the folios mapped while the eviction ran stay large.
function work() {
  const crypto = require('node:crypto');
  const digest = crypto.createHash('sha256').update('x').digest('hex');
  crypto.createHash('sha512').update('x').digest('hex');
  crypto.createCipheriv('aes-256-gcm', Buffer.alloc(32), Buffer.alloc(12)).update('x');
  const date = new Intl.DateTimeFormat('de-DE', { timeZone: 'UTC' }).format(new Date(0));
  new Intl.NumberFormat('ja-JP', { style: 'currency', currency: 'JPY' }).format(1234.5);
  'Straße'.localeCompare('Strasse', 'de');
  require('node:zlib').gzipSync(Buffer.alloc(1 << 16, 1));
  /(a+)+b|[\\p{L}]{3,}/u.test('x'.repeat(64));
  let sum = 0;
  for (let i = 0; i < 2e6; i++) sum += Math.sqrt(i) | 0;
  JSON.parse(JSON.stringify({ sum, list: Array.from({ length: 1000 }, (_, i) => ({ i })) }));
  return { digest, date };
}
const majorBefore = majorFaults();
const { digest, date } = work();
const majorInWork = majorFaults() - majorBefore;
// Under load, this process's other threads (V8's workers) run inside the eviction's window and
// map folios the advice then cannot drop: twice in CI (load 6.7) they were over a quarter of the
// sample after one round. Each further call evicts again while the sample shows large folios
// (the heap trim calls it up to three times, EVICT_CACHE_AT_CHECKS), so the check allows up to
// three rounds.
const largeAfter = [addon.executableInLargeFolios()];
while (largeAfter.at(-1) === true && largeAfter.length < 3) {
  addon.evictExecutableCache();
  work();
  largeAfter.push(addon.executableInLargeFolios());
}
console.log(JSON.stringify({ largeBefore, evicted, majorInWork, largeAfter, again: addon.evictExecutableCache(), digest, date }));`,
    );
    // Nearly all of the ~120 MB file: only what the process touched since the release stays.
    expect(out.evicted).toBeGreaterThan(size / 2);
    expect(out.evicted).toBeLessThanOrEqual(size + 4096);
    // What was evicted was read back at once: the work's faults found the file's pages cached
    // (read back by those faults instead, the same work took 14-15 major faults).
    expect(out.majorInWork).toBeLessThan(10);
    // The copy was written in one piece, so the kernel cached it in large folios; read back after
    // the eviction, page by page, it is in small ones, and a further eviction leaves it alone.
    // The page frames behind this are shown to root only; otherwise it cannot be told, and the
    // check is never repeated, and the last call evicts what was read back (the behaviour before
    // the check).
    const root = process.getuid?.() === 0;
    expect({ largeBefore: out.largeBefore, largeAfter: out.largeAfter.at(-1) }).toEqual(
      root ? { largeBefore: true, largeAfter: false } : { largeBefore: null, largeAfter: null },
    );
    if (!root) expect(out.largeAfter).toHaveLength(1);
    if (root) expect(out.again).toBe(0);
    else expect(out.again).toBeGreaterThanOrEqual(0);
    expect(out.digest).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
    expect(out.date).toBe('1.1.1970');
  });

  it('leaves an executable not yet written back alone, and evicts it once it is', () => {
    // A copy written here and not synced: the kernel writes it back 30-35 s later (well inside
    // that, unless ~10% of memory is dirty, which starts the writeback at once).
    const copy = join(dir, 'node-unsynced');
    writeFileSync(copy, readFileSync(node), { mode: 0o755 });
    const size = statSync(copy).size;
    const out = runWithAddon(
      copy,
      addon,
      dir,
      'unsynced',
      `const fs = require('node:fs');
// The resident pages of the executable's mappings still dirty (not yet handed to the writeback),
// from the pagemap and /proc/kpageflags (KPF_DIRTY, bit 4); null without root.
function dirtyPages() {
  const exe = fs.realpathSync('/proc/self/exe');
  const pagemap = fs.openSync('/proc/self/pagemap', 'r');
  let flags;
  try { flags = fs.openSync('/proc/kpageflags', 'r'); } catch { return null; }
  const entry = Buffer.alloc(8);
  let dirty = 0;
  for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')) {
    if (!line.endsWith(' ' + exe)) continue;
    const [start, end] = line.split(' ')[0].split('-').map((h) => parseInt(h, 16) / 4096);
    const entries = Buffer.alloc((end - start) * 8);
    fs.readSync(pagemap, entries, 0, entries.length, start * 8);
    for (let i = 0; i < end - start; i++) {
      const e = entries.readBigUInt64LE(i * 8);
      if (!(e >> 63n)) continue;
      const pfn = e & ((1n << 55n) - 1n);
      if (pfn === 0n) return null;
      fs.readSync(flags, entry, 0, 8, Number(pfn * 8n));
      if (entry.readBigUInt64LE(0) & 16n) dirty++;
    }
  }
  return dirty;
}
const largeBefore = addon.executableInLargeFolios();
const dirtyBefore = dirtyPages();
const whileDirty = addon.evictExecutableCache();
const dirtyAfter = dirtyPages();
fs.fsyncSync(fs.openSync(process.execPath, 'r'));
const afterSync = addon.evictExecutableCache();
console.log(JSON.stringify({ largeBefore, dirtyBefore, whileDirty, dirtyAfter, afterSync }));`,
    );
    // The page frames behind the check are shown to root only; otherwise it cannot be told, and
    // the call evicts what it can as before the check (the clean pages: none before the sync).
    const root = process.getuid?.() === 0;
    expect(out.largeBefore).toBe(root ? true : null);
    if (root) {
      // Left alone: nothing evicted, and no writeback started (the advice would have handed
      // every dirty page to it; the kernel's own writeback comes 30 s after the write).
      expect(out.whileDirty).toBe(0);
      expect(out.dirtyBefore).toBeGreaterThan(0);
      expect(out.dirtyAfter).toBeGreaterThan(out.dirtyBefore / 2);
    } else {
      expect(out.whileDirty).toBeGreaterThanOrEqual(0);
    }
    expect(out.afterSync).toBeGreaterThan(size / 2);
  });

  it('gives freed malloc memory back to the kernel', () => {
    const out = runWithAddon(
      node,
      addon,
      dir,
      'malloc',
      `// Small native allocations with a few kept among them, so the freed ones sit below live
// chunks where free() alone cannot return them.
const kept = [];
let dropped = [];
for (let i = 0; i < 40000; i++) {
  dropped.push(Buffer.allocUnsafeSlow(2000));
  if (i % 64 === 0) kept.push(Buffer.allocUnsafeSlow(2000));
}
dropped = null;
gc();
gc();
const before = status('RssAnon');
const trimmed = addon.releaseMallocFree();
const after = status('RssAnon');
console.log(JSON.stringify({ before, after, trimmed, kept: kept.length }));`,
    );
    expect(out.trimmed).toBe(true);
    // 40,000 x 2 KB freed: most of it returns.
    expect(out.after).toBeLessThan(out.before - 40 * MiB);
  });

  it('loads an addon from the first place that takes it, and names every place that did not', () => {
    const { loadAddonBytes } = createRequire(import.meta.url)('./embedded-addon.cjs') as typeof EmbeddedAddon;
    const bytes = new Uint8Array(readFileSync(addon));
    // A missing directory stands for a noexec /tmp: the next place is used.
    const loaded = loadAddonBytes(bytes, 'page-release.node', [join(dir, 'missing'), dir]) as {
      releaseMallocFree(): boolean;
    };
    expect(typeof loaded.releaseMallocFree()).toBe('boolean');
    expect(() => loadAddonBytes(bytes, 'page-release.node', [join(dir, 'a'), join(dir, 'b')])).toThrow(
      /cannot load page-release\.node \(.*\/a: ENOENT.*; .*\/b: ENOENT/,
    );
  });

  it('names the compiler it could not run', () => {
    expect(() => buildPageReleaseAddon(join(dir, 'x.node'), nodeIncludeDir(node), 'no-such-cc')).toThrow(
      /PAGE_RELEASE_COMPILE: no "no-such-cc" \(apt-get install gcc libc6-dev\)/,
    );
  });
});
