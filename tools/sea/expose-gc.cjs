'use strict';
// V8's gc() for the executables' memory trim (heap-trim.cjs) without `--expose-gc` among the
// executable's V8 flags. Any flag that is not V8's default changes V8's flag hash, and Node's own
// code cache of its built-in modules (http, https, http2, tls, crypto, ...) was made with the
// default flags: with `--expose-gc` in execArgv, V8 rejected it and every built-in module the app
// loaded was compiled from source. Requiring 24 of them took 40-80 CPU-ms with the flag, 18-38
// without (Node 24.21.0; issue #51); the semi-space sizes are not in the hash (26-29 with
// `--max-semi-space-size=2`). A flag set at run time changes the hash too (the 24 after
// `v8.setFlagsFromString('--expose-gc')`: 27 -> 47 CPU-ms), so the flag is on only while V8
// installs `gc` in a new context and off again after, which gives back the start's hash; no
// context made later gets a `gc` either.
const v8 = require('node:v8');
const vm = require('node:vm');

/**
 * The gc function: the global one if the process has a `gc` global already (`--expose-gc` from
 * NODE_OPTIONS; or a host that set it to undefined to keep the trim from collecting, as the code
 * cache's training run does), otherwise one made in a context of its own.
 * @returns {((options?: object) => void) | undefined}
 */
function exposeGc() {
  if ('gc' in globalThis) return typeof globalThis.gc === 'function' ? globalThis.gc : undefined;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc');
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

module.exports = { exposeGc };
