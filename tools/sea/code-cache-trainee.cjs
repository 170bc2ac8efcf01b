'use strict';
// Runs an app's bundle as the executable's launcher does and writes V8's code cache of it once
// the app has started: the cache then holds the bytecode of every function the start compiled
// (the trained cache, see code-cache-training.ts), where a cache made before the run holds the
// top level only and the start compiles each function it calls, lazily, at every start.
//
// Run by the executable's own Node with the executable's V8 flags (a cache made with other flags
// or another V8 is rejected):
//   node <execArgv> code-cache-trainee.cjs <bundle> <out> <event> <settleMs> -- <app args>
// It writes <out> `settleMs` after the app first emits `event` on process (the kubelet's
// 'nodeagent:started', kube-proxy's 'nodeagent:burst-ended' after a sync), then exits 0; the
// caller ends it if that never comes.
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const vm = require('node:vm');
const { APP_SCRIPT_LINE_OFFSET, appScriptSource } = require('./app-script.cjs');

const [bundle, out, event, settleMs, separator, ...appArgs] = process.argv.slice(2);
if (!bundle || !out || !event || !(Number(settleMs) >= 0) || separator !== '--') {
  process.stderr.write('usage: code-cache-trainee.cjs <bundle> <out> <event> <settleMs> -- <app args>\n');
  process.exit(2);
}

// What the app's command line reads: argv[1] is the executable in a single executable app.
process.argv = [process.argv[0], bundle, ...appArgs];

const script = new vm.Script(appScriptSource(readFileSync(bundle, 'utf8')), {
  filename: bundle,
  lineOffset: APP_SCRIPT_LINE_OFFSET,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});

process.once(event, () => {
  setTimeout(() => {
    writeFileSync(out, script.createCachedData());
    process.exit(0);
  }, Number(settleMs));
});

script.runInThisContext()(exports, require, module, bundle, dirname(bundle));
