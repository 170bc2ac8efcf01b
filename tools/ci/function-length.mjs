#!/usr/bin/env node
// Lists the functions of every workspace package's src (and the apps') that run over the limit:
// `node tools/ci/function-length.mjs [--limit 150] [--all]` prints one line per long function
// (`path:line name lines`) and exits 1 when one of them carries no reason.
//
// A function, method, constructor, accessor or function expression counts from its first line to
// its last. A long one passes when a comment right above it (or above the statement that holds it)
// says why, in a line that starts with `function-length:` (`// function-length: one table …`).
// `--all` prints the explained ones as well; `--warn` prints them and exits 0. Tests (`*.test.ts`) and generated files are left out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');

export const DEFAULT_LIMIT = 150;
const SOURCE = /\.(c|m)?tsx?$/;
const SKIPPED = /\.(test|d)\.(c|m)?tsx?$/;
const REASON = /^\s*(\/\/|\*|\/\*+)\s*function-length:\s*\S/m;

function sourceFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory())
      return entry === 'node_modules' || entry === 'generated' ? [] : sourceFiles(path);
    return SOURCE.test(entry) && !SKIPPED.test(entry) ? [path] : [];
  });
}

function nameOf(node, sourceFile) {
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (node.name)
    return `${ts.isMethodDeclaration(node) || ts.isAccessor(node) ? className(node) : ''}${node.name.getText(sourceFile)}`;
  // An arrow or function expression is named by what holds it (`const x = …`, `x: …`).
  const holder = node.parent;
  if (
    holder &&
    (ts.isVariableDeclaration(holder) || ts.isPropertyAssignment(holder) || ts.isPropertyDeclaration(holder))
  )
    return holder.name.getText(sourceFile);
  return '(anonymous)';
}

function className(node) {
  const owner = node.parent;
  return owner && (ts.isClassLike(owner) || ts.isObjectLiteralExpression(owner)) && owner.name
    ? `${owner.name.text}.`
    : '';
}

/** The comments right above a node and above the statements that hold it (a `const x = () => …`). */
function leadingComments(node, text) {
  const out = [];
  for (let at = node; at && !ts.isSourceFile(at); at = at.parent) {
    for (const range of ts.getLeadingCommentRanges(text, at.getFullStart()) ?? [])
      out.push(text.slice(range.pos, range.end));
    if (ts.isStatement(at) || ts.isClassElement(at)) break;
  }
  return out.join('\n');
}

/** Every function-like node of one file over `limit` lines: `{ name, line, lines, reason }`. */
export function longFunctions(fileName, text, limit = DEFAULT_LIMIT) {
  const sourceFile = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line;
      const last = sourceFile.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > limit) {
        const comments = leadingComments(node, text);
        found.push({ name: nameOf(node, sourceFile), line: first + 1, lines, reason: REASON.test(comments) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

/** The long functions under every `packages/*\/src` and `apps/*\/src` of the repository at `root`. */
export function checkWorkspace(root, limit = DEFAULT_LIMIT) {
  const out = [];
  for (const group of ['packages', 'apps']) {
    let names;
    try {
      names = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const name of names.sort())
      for (const file of sourceFiles(join(root, group, name, 'src')).sort())
        for (const fn of longFunctions(file, readFileSync(file, 'utf8'), limit))
          out.push({ file: relative(root, file), ...fn });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const limitAt = args.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0) {
    console.error(
      `function-length: --limit must be a positive whole number of lines, got ${args[limitAt + 1]}`,
    );
    process.exit(2);
  }
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const found = checkWorkspace(root, limit);
  const unexplained = found.filter((fn) => !fn.reason);
  for (const fn of args.includes('--all') ? found : unexplained)
    console.log(`${fn.file}:${fn.line} ${fn.name} ${fn.lines} lines${fn.reason ? ' (explained)' : ''}`);
  console.log(
    `function-length: ${found.length} function(s) over ${limit} lines, ${unexplained.length} without a function-length: comment`,
  );
  // --warn: report only (exit 0), for a CI leg that lists them until each is split or explained.
  process.exit(unexplained.length > 0 && !args.includes('--warn') ? 1 : 0);
}
