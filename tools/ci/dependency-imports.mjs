#!/usr/bin/env node
// Checks that every workspace package's package.json matches what its src imports:
// `node tools/ci/dependency-imports.mjs` (exit 1 and one line per problem when they disagree).
//
// - a `dependencies` / `peerDependencies` / `optionalDependencies` entry that no non-test file under src imports is unused
//   (users would install it for nothing), unless it is an optional peer dependency of a package it
//   imports (primitives' /x509 subpath needs @peculiar/x509, which only its users install);
// - a package that a non-test file under src imports but that is neither a dependency nor a peer
//   dependency is undeclared (it resolves here only because the workspace hoists it; a user's
//   install would fail at run time).
// Test files (`*.test.ts`) may import devDependencies, so they are left out of both checks.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(c|m)?[jt]sx?$/;
const TEST = /\.test\.(c|m)?[jt]sx?$/;
/** Static and dynamic module specifiers: `from 'x'`, `import 'x'`, `import('x')`, `require('x')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;
const BUILTINS = new Set(builtinModules);
/** npm's package name shape (optionally scoped, then a subpath); anything else is not a specifier. */
const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[^\s]*)?$/i;

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined. */
export function packageOf(specifier) {
  if (specifier.startsWith('node:') || !PACKAGE_NAME.test(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return BUILTINS.has(name) ? undefined : name;
}

/** The packages a source text imports. */
export function importsOf(text) {
  const found = new Set();
  for (const match of text.matchAll(SPECIFIER)) {
    const name = packageOf(match[2]);
    if (name) found.add(name);
  }
  return found;
}

function sourceFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return SOURCE.test(entry) && !TEST.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The problems of one package directory: `{ package, kind: 'unused' | 'undeclared', name }`.
 * `@types/*` entries are type packages, imported under another name, and are not checked.
 */
export function checkPackage(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    // A native addon the package loads lazily and can run without (netlink): npm carries on when
    // it cannot be built on the user's platform.
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const imported = new Set();
  for (const file of sourceFiles(join(dir, 'src'))) {
    for (const name of importsOf(readFileSync(file, 'utf8'))) imported.add(name);
  }
  imported.delete(manifest.name);
  const peersOfImports = optionalPeersOf(dir, imported);
  const problems = [];
  for (const name of [...declared].sort()) {
    if (!name.startsWith('@types/') && !imported.has(name) && !peersOfImports.has(name)) {
      problems.push({ package: manifest.name, kind: 'unused', name });
    }
  }
  for (const name of [...imported].sort()) {
    if (!declared.has(name)) problems.push({ package: manifest.name, kind: 'undeclared', name });
  }
  return problems;
}

/** The optional peer dependencies of the packages `dir` imports, where their manifests can be read. */
function optionalPeersOf(dir, imported) {
  const require = createRequire(join(dir, 'package.json'));
  const peers = new Set();
  for (const name of imported) {
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
    } catch {
      continue;
    }
    for (const [peer, meta] of Object.entries(manifest.peerDependenciesMeta ?? {})) {
      if (meta?.optional) peers.add(peer);
    }
  }
  return peers;
}

/** The problems of every workspace package under packages/ and apps/ of `root`. */
export function checkWorkspace(root) {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => join(root, group, name))
      .filter((dir) => statSync(join(dir, 'package.json'), { throwIfNoEntry: false })?.isFile())
      .flatMap((dir) => checkPackage(dir)),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const problems = checkWorkspace(root);
  for (const p of problems) {
    const what =
      p.kind === 'unused'
        ? 'is in package.json but no file under src imports it'
        : 'is imported under src but is not a dependency or peer dependency';
    console.error(`${p.package}: ${p.name} ${what}`);
  }
  if (problems.length > 0) process.exit(1);
  console.log(`dependency-imports: ${relative(process.cwd(), root) || '.'} ok`);
}
