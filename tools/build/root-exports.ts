import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** One package's root entry point: how many names it exports and which. */
export interface RootExports {
  /** The npm name, e.g. `@nodeagent/kubelet`. */
  readonly packageName: string;
  /** Every exported name (values and types alike), sorted. */
  readonly names: readonly string[];
  /** Where each name is declared (`file:offset`), re-exports followed to the original. */
  readonly origins: ReadonlyMap<string, string>;
}

/**
 * Lists the names each package's `src/index.ts` exports, with the TypeScript compiler so that
 * `export *` and type-only exports count like the editor sees them (a runtime `Object.keys` would
 * miss every interface and type alias, which are most of a package's surface).
 */
export function listRootExports(packagesDir: string): RootExports[] {
  const packages = readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(packagesDir, entry.name))
    .filter((dir) => {
      try {
        readFileSync(join(dir, 'src', 'index.ts'));
        return true;
      } catch {
        return false;
      }
    })
    .sort();
  const entries = packages.map((dir) => join(dir, 'src', 'index.ts'));
  const program = ts.createProgram(entries, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['@nodeagent/source'],
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  return packages.map((dir, index) => {
    const entry = entries[index] as string;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    const source = program.getSourceFile(entry);
    const symbol = source ? checker.getSymbolAtLocation(source) : undefined;
    if (!symbol) throw new Error(`no module symbol for ${entry}`);
    const exports = checker.getExportsOfModule(symbol);
    const origins = new Map<string, string>();
    for (const exported of exports) {
      const original = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = original.declarations?.[0];
      origins.set(
        exported.getName(),
        declaration
          ? `${declaration.getSourceFile().fileName}:${declaration.getStart()}`
          : exported.getName(),
      );
    }
    const names = exports.map((exported) => exported.getName()).sort();
    return { packageName: manifest.name, names, origins };
  });
}

/**
 * Names that two or more roots export for different things: importing both roots into one file
 * would need a rename. A name re-exported from one origin (a class of @nodeagent/primitives that
 * a package also offers) is one thing, not a clash.
 */
export function rootClashes(roots: readonly RootExports[]): Map<string, string[]> {
  const byName = new Map<string, { pkg: string; origin: string }[]>();
  for (const { packageName, names, origins } of roots) {
    for (const name of names) {
      byName.set(name, [
        ...(byName.get(name) ?? []),
        { pkg: packageName, origin: origins.get(name) ?? name },
      ]);
    }
  }
  const clashes = new Map<string, string[]>();
  for (const [name, owners] of byName) {
    if (new Set(owners.map((o) => o.origin)).size > 1)
      clashes.set(
        name,
        owners.map((o) => o.pkg),
      );
  }
  return clashes;
}

// `npx tsx tools/build/root-exports.ts [packages dir]` prints the count per package.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'packages');
  const all = listRootExports(dir);
  for (const { packageName, names } of all) console.log(`${packageName}\t${names.length}`);
  const clashes = rootClashes(all);
  console.log(`names two or more roots export for different things: ${clashes.size}`);
  for (const [name, pkgs] of clashes) console.log(`  ${name}: ${pkgs.join(', ')}`);
}
