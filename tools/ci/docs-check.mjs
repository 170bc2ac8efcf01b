#!/usr/bin/env node
// The tree speaks of the project, not of how it was made: `node tools/ci/docs-check.mjs [dir]`
// fails (exit 1, one `path:line: why` a finding) on a run-diary label (the word for a work
// sitting or for a numbered assistant, followed by its number) in any tracked file, and on a
// README.md over its size: the root's 12 KB, every other 15 KB. History lives in git and
// CHANGELOG.md; details live in docs/ and the API docs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bytes a README may hold: the root's, and every other's. */
export const README_LIMITS = { root: 12 * 1024, other: 15 * 1024 };

// Built from parts so that this file does not match itself.
const DIARY = new RegExp(`\\b(?:${['ses', 'sions?'].join('')}\\s+\\d|${['hel', 'per'].join('')}-\\d)`, 'i');

/** This check and its test spell the patterns out; every other file is checked. */
const SELF = new Set(['tools/ci/docs-check.mjs', 'tools/ci/docs-check.test.ts']);

const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'out-tsc', 'coverage', '.nx', 'bench-results']);

function walk(root, dir = root) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return SKIPPED_DIRS.has(entry) ? [] : walk(root, path);
    return [relative(root, path)];
  });
}

/** The tracked files of `root` (git's index), or every file under it when it is not a git tree. */
export function trackedFiles(root) {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\0').filter((path) => path !== '');
  } catch {
    return walk(root);
  }
}

/** What is wrong with one file: `path:line: why` lines. */
export function fileFindings(path, text) {
  const findings = [];
  if (basename(path) === 'README.md') {
    const limit = path === 'README.md' ? README_LIMITS.root : README_LIMITS.other;
    const size = Buffer.byteLength(text);
    if (size > limit)
      findings.push(
        `${path}:1: README is ${size} bytes, over its ${limit} (move detail to docs/ or the API docs)`,
      );
  }
  if (SELF.has(path)) return findings;
  for (const [i, line] of text.split('\n').entries()) {
    const match = DIARY.exec(line);
    if (match)
      findings.push(
        `${path}:${i + 1}: run-diary label "${match[0]}…" (history belongs in git and CHANGELOG.md)`,
      );
  }
  return findings;
}

/** Every finding in the tree at `root`. */
export function checkTree(root) {
  return trackedFiles(root).flatMap((path) => {
    let buffer;
    try {
      buffer = readFileSync(join(root, path));
    } catch {
      return []; // listed in the index but deleted in the work tree
    }
    if (buffer.includes(0)) return []; // binary
    return fileFindings(path, buffer.toString('utf8'));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../..', import.meta.url));
  const findings = checkTree(root);
  for (const finding of findings) console.error(finding);
  if (findings.length > 0) {
    console.error(`docs-check: ${findings.length} finding(s)`);
    process.exit(1);
  }
  console.log('docs-check: no run-diary labels, every README within its size');
}
