import { execFileSync } from 'node:child_process';

/**
 * A V8 code cache for a bundle, for the micro-VM: Node 20 has no module compile cache, and under
 * the guest's emulated CPU (TCG) parsing and compiling a 2–4 MB bundle is most of a Node start.
 * The bundle is built as a CommonJS body (`body.cjs`) that a small ESM loader (`entry.mjs`, the
 * file callers run) compiles with `new vm.Script(source, { cachedData })`. The host produces the
 * cache once per bundle, with the same node binary the guest runs (the guest sees the host's root).
 *
 * The cache is made with every function compiled eagerly (`--no-lazy` for the compile only, the
 * flag set back before `createCachedData`, so the flags V8 checks the cache against are the
 * default ones): a bundle cannot be run on the host to warm it (a scenario would change the
 * host), and eagerly compiled it holds what a warm run would, and more. V8 rejects a cache made by
 * another V8 version, other flags or another source; the loader then compiles the source as if
 * there were none (`cachedDataRejected`), so a stale or foreign cache costs time, never a failure.
 */

/** The body is wrapped the same way by the producer and the loader: V8 checks the source. */
const WRAP_HEAD =
  '(function (exports, require, module, __filename, __dirname, __nodeagent_import_meta_url) {"use strict";';
const WRAP_TAIL = '\n})';

/** What esbuild replaces `import.meta.url` with in the CommonJS body: the loader's own URL. */
export const IMPORT_META_URL_NAME = '__nodeagent_import_meta_url';

/**
 * The body's first line: the loader passes `import.meta.url`; a body required on its own (a
 * scenario's `import()` of another bundle, made `require()`) falls back to its own file's URL.
 */
export const BODY_BANNER = `var ${IMPORT_META_URL_NAME} = typeof ${IMPORT_META_URL_NAME} === 'string' ? ${IMPORT_META_URL_NAME} : require('node:url').pathToFileURL(__filename).href;`;

/** Set to anything, the loader writes `code cache accepted|rejected|missing <body>` to stderr. */
export const CODE_CACHE_REPORT_ENV = 'NODEAGENT_CODE_CACHE_REPORT';

/**
 * The ESM entry that runs the CommonJS body beside it with its code cache. `import.meta.url` in
 * the body is the entry's (as in an ESM bundle, so a main-module check against argv[1] holds);
 * the body runs in strict mode, as the ESM bundle did. The body has no `import()`: in Node 20 a
 * script's functions deserialized from a cache keep the producing process's dynamic-import
 * callback and fail (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so the body is built with esbuild
 * turning `import()` into `require()` (bundle-entry.ts).
 */
export function loaderSource(bodyName: string, cacheName: string): string {
  return `import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
const body = fileURLToPath(new URL(${JSON.stringify(`./${bodyName}`)}, import.meta.url));
let cachedData;
try {
  cachedData = readFileSync(fileURLToPath(new URL(${JSON.stringify(`./${cacheName}`)}, import.meta.url)));
} catch {}
const script = new Script(${JSON.stringify(WRAP_HEAD)} + readFileSync(body, 'utf8') + ${JSON.stringify(WRAP_TAIL)}, {
  filename: body,
  cachedData,
});
if (process.env.${CODE_CACHE_REPORT_ENV})
  process.stderr.write(\`code cache \${cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted'} \${body}\\n\`);
const module = { exports: {} };
script.runInThisContext().call(undefined, module.exports, createRequire(body), module, body, dirname(body), import.meta.url);
`;
}

const PRODUCER = `import { readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
const [body, cache] = process.argv.slice(1);
const source = ${JSON.stringify(WRAP_HEAD)} + readFileSync(body, 'utf8') + ${JSON.stringify(WRAP_TAIL)};
setFlagsFromString('--no-lazy');
const script = new Script(source, { filename: body });
setFlagsFromString('--lazy');
writeFileSync(cache, script.createCachedData());
`;

/**
 * Writes `cacheFile` for `bodyFile` in a child process (the eager compile's flag must not touch
 * this one). False when it could not: the loader then runs without a cache.
 */
export function produceCodeCache(bodyFile: string, cacheFile: string): boolean {
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', PRODUCER, bodyFile, cacheFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return true;
  } catch {
    return false;
  }
}
