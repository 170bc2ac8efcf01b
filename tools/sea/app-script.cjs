'use strict';
// The app's bundle as one V8 script, the same text at build time (its code cache, trained or not)
// and in the executable (launcher): V8 takes a code cache only for the source it was made from.
//
// A vm.Script of the bundle inside Node's CommonJS wrapper, rather than vm.compileFunction: a
// Script's cache can be made after it ran (`script.createCachedData()`), and then it holds every
// function compiled so far; compileFunction's is made at compile time only, the top level alone.
// The wrapper's head is a line of its own and the script starts a line early (lineOffset -1),
// so stack traces give the bundle's own lines and columns.

/** What precedes the bundle: the CommonJS arguments, as Node's loader passes them. */
const APP_SCRIPT_HEAD = '(function (exports, require, module, __filename, __dirname) {\n';
/** What follows it (a newline first: the bundle may end in a line comment). */
const APP_SCRIPT_TAIL = '\n})';
/** The vm.Script `lineOffset` that makes the bundle's first line line 1. */
const APP_SCRIPT_LINE_OFFSET = -1;

/** The script's source for a bundle's text. */
function appScriptSource(bundle) {
  return APP_SCRIPT_HEAD + bundle + APP_SCRIPT_TAIL;
}

module.exports = { APP_SCRIPT_HEAD, APP_SCRIPT_TAIL, APP_SCRIPT_LINE_OFFSET, appScriptSource };
