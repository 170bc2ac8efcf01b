#!/usr/bin/env node
// What installing one layer costs a user: `node tools/consumer/footprint.mjs` (after
// `npm run build`) packs every package, then for each one installs only its tarball into a new app
// outside the workspace (the other @nodeagent tarballs are there through `overrides`, as the
// registry would serve them; npm installs required peers itself) and counts the packages in
// node_modules and their size. `--manifests-from <git ref>` packs each package with the
// dependency fields of its package.json at that ref instead (dist as built now), to compare
// with an earlier state of the manifests. `--markdown` prints a table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The package.json fields that decide what npm installs with a package. */
export const INSTALL_FIELDS = [
  'dependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'optionalDependencies',
];

/** `manifest` with the install fields of `earlier` (fields `earlier` lacks are dropped). */
export function withInstallFieldsOf(manifest, earlier) {
  const out = { ...manifest };
  for (const field of INSTALL_FIELDS) {
    if (earlier[field] === undefined) delete out[field];
    else out[field] = earlier[field];
  }
  return out;
}

/** Every installed package folder under node_modules (scoped and nested included). */
export function installedPackages(nodeModules) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        walk(path);
        continue;
      }
      found.push(path);
      walk(join(path, 'node_modules'));
    }
  };
  walk(nodeModules);
  return found;
}

/** Bytes of the files under `dir` (apparent size, as `du --apparent-size`). */
function bytesUnder(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function main() {
  const { values } = parseArgs({
    options: { 'manifests-from': { type: 'string' }, markdown: { type: 'boolean', default: false } },
  });
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const ref = values['manifests-from'];
  const dirs = readdirSync(join(root, 'packages'))
    .filter((dir) => {
      try {
        return !JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).private;
      } catch {
        return false;
      }
    })
    .sort();
  const work = mkdtempSync(join(tmpdir(), 'nodeagent-footprint-'));
  const rows = [];
  try {
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    const byName = {};
    for (const dir of dirs) {
      const [packed] = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--pack-destination', tarballs, '-w', `packages/${dir}`], {
          cwd: root,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      );
      let file = join(tarballs, packed.filename);
      if (ref) {
        // The same files, with the install fields the package.json had at `ref`.
        const unpacked = join(work, 'unpacked', dir);
        mkdirSync(unpacked, { recursive: true });
        execFileSync('tar', ['-xzf', file, '-C', unpacked]);
        const manifestPath = join(unpacked, 'package', 'package.json');
        const earlier = JSON.parse(
          execFileSync('git', ['show', `${ref}:packages/${dir}/package.json`], {
            cwd: root,
            encoding: 'utf8',
          }),
        );
        const manifest = withInstallFieldsOf(JSON.parse(readFileSync(manifestPath, 'utf8')), earlier);
        writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
        const [repacked] = JSON.parse(
          execFileSync(
            'npm',
            ['pack', '--json', '--ignore-scripts', '--pack-destination', join(work, 'unpacked')],
            {
              cwd: join(unpacked, 'package'),
              encoding: 'utf8',
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          ),
        );
        file = join(work, 'unpacked', repacked.filename);
      }
      byName[packed.name] = `file:${file}`;
    }
    for (const [name, spec] of Object.entries(byName)) {
      const app = join(work, 'apps', name.replace('/', '__'));
      mkdirSync(app, { recursive: true });
      const overrides = Object.fromEntries(Object.entries(byName).filter(([n]) => n !== name));
      writeFileSync(
        join(app, 'package.json'),
        `${JSON.stringify({ name: 'footprint', private: true, dependencies: { [name]: spec }, overrides }, null, 2)}\n`,
      );
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
        cwd: app,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const nodeModules = join(app, 'node_modules');
      const packages = installedPackages(nodeModules);
      rows.push({ name, packages: packages.length, mb: bytesUnder(nodeModules) / 1e6 });
      rmSync(app, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const label = ref ? `manifests of ${ref}` : 'manifests as they are';
  if (values.markdown) {
    console.log(`| package (${label}) | packages installed | MB |\n| --- | ---: | ---: |`);
    for (const r of rows) console.log(`| ${r.name} | ${r.packages} | ${r.mb.toFixed(1)} |`);
  } else {
    for (const r of rows)
      console.log(
        `${r.name.padEnd(24)} ${String(r.packages).padStart(4)} packages ${r.mb.toFixed(1).padStart(7)} MB`,
      );
    console.log(`(${label})`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
