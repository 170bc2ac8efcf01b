#!/usr/bin/env node
// What a release would publish, without publishing: `node tools/release/dry-run.mjs` (after
// `npm run build`) asks `nx release version` for the next versions in dry-run mode (nx.json
// `release`: one fixed group, so every package gets the same version; nothing is written, no git
// commit, no tag, no push), then packs every publishable package as a publish would push it: the
// new version in its package.json and each internal dependency range rewritten as nx release
// rewrites it (a range the new version satisfies is kept, `^0.1.0` stays for 0.1.1; any other
// takes the new version with the range's own prefix). It checks that every internal range a
// tarball names is satisfied by a tarball of the same release, so a user installing one layer
// gets the rest from the same release, and writes the tarballs and `release-plan.json` to --out.
// No registry is contacted: `npm pack` of local folders and nx's dry-run only.
//
// Options: --specifier <patch|minor|major|prerelease|x.y.z> (default patch), --out <dir>
// (default dist/release), --preid <id> for prereleases.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The dependency fields a published package.json can name another package in. */
export const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];

const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/** A version's parts, or a RangeError naming it. */
function parseVersion(version) {
  const m = VERSION.exec(version);
  if (!m) throw new RangeError(`not a version: ${JSON.stringify(version)}`);
  return { major: +m[1], minor: +m[2], patch: +m[3], pre: m[4] };
}

/** -1, 0 or 1 (prerelease identifiers compare as npm's semver does: numbers below words). */
function compare(a, b) {
  for (const k of ['major', 'minor', 'patch']) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (a.pre === b.pre) return 0;
  if (a.pre === undefined) return 1;
  if (b.pre === undefined) return -1;
  const x = a.pre.split('.');
  const y = b.pre.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === undefined) return -1;
    if (y[i] === undefined) return 1;
    if (x[i] === y[i]) continue;
    const nx = /^\d+$/.test(x[i]);
    const ny = /^\d+$/.test(y[i]);
    if (nx && ny) return +x[i] < +y[i] ? -1 : 1;
    if (nx !== ny) return nx ? -1 : 1;
    return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

/**
 * Whether `version` satisfies `range`, for the forms the workspace uses between its own packages
 * (`1.2.3`, `^1.2.3`, `~1.2.3`, `>=1.2.3`, joined by `||`). Any other form is a RangeError: the
 * check must not pass a range it does not understand. As npm, a prerelease satisfies only a
 * comparator on the same major.minor.patch that has a prerelease too.
 */
export function satisfies(version, range) {
  const v = parseVersion(version);
  return range.split('||').some((part) => {
    const m = /^\s*(\^|~|>=|=)?\s*(\S+)\s*$/.exec(part);
    if (!m) throw new RangeError(`unsupported range: ${JSON.stringify(range)}`);
    const [, op = '=', base] = m;
    const b = parseVersion(base);
    if (
      v.pre !== undefined &&
      !(b.pre !== undefined && b.major === v.major && b.minor === v.minor && b.patch === v.patch)
    )
      return false;
    const c = compare(v, b);
    if (op === '=') return c === 0;
    if (c < 0) return false;
    if (op === '>=') return true;
    if (op === '~') return v.major === b.major && v.minor === b.minor;
    // ^: the left-most non-zero part is fixed.
    if (b.major !== 0) return v.major === b.major;
    if (b.minor !== 0) return v.major === 0 && v.minor === b.minor;
    return v.major === 0 && v.minor === 0 && v.patch === b.patch;
  });
}

/**
 * An internal dependency's range in the released package.json: kept when the new version
 * satisfies it (as nx release's preserveMatchingDependencyRanges), else the new version with the
 * range's prefix (`^`, `~` or none).
 */
export function releasedRange(range, newVersion) {
  if (satisfies(newVersion, range)) return range;
  const prefix = /^\s*(\^|~)/.exec(range)?.[1] ?? '';
  return `${prefix}${newVersion}`;
}

/**
 * The package.json a publish would push: the new version, internal ranges per `releasedRange`.
 * `versions` maps every package of the release to its new version.
 */
export function releasedManifest(manifest, versions) {
  const out = { ...manifest, version: versions[manifest.name] ?? manifest.version };
  for (const field of DEPENDENCY_FIELDS) {
    if (!manifest[field]) continue;
    out[field] = Object.fromEntries(
      Object.entries(manifest[field]).map(([name, range]) => [
        name,
        name in versions ? releasedRange(range, versions[name]) : range,
      ]),
    );
  }
  return out;
}

/**
 * What a user installing these manifests from the registry could not satisfy: internal ranges
 * no released version meets, internal packages missing from the release, local protocols.
 */
export function unsatisfiable(manifests) {
  const released = Object.fromEntries(manifests.map((m) => [m.name, m.version]));
  const problems = [];
  for (const m of manifests) {
    for (const field of DEPENDENCY_FIELDS) {
      for (const [name, range] of Object.entries(m[field] ?? {})) {
        if (/^(workspace|file|link|portal):/.test(range)) {
          problems.push(`${m.name} ${field}.${name}: local protocol ${JSON.stringify(range)}`);
        } else if (name.startsWith('@nodeagent/') && !(name in released)) {
          problems.push(`${m.name} ${field}.${name}: ${name} is not in the release`);
        } else if (name in released && !satisfies(released[name], range)) {
          problems.push(
            `${m.name} ${field}.${name}: ${JSON.stringify(range)} excludes the released ${released[name]}`,
          );
        }
      }
    }
  }
  return problems;
}

async function main() {
  const { values } = parseArgs({
    options: {
      specifier: { type: 'string', default: 'patch' },
      preid: { type: 'string' },
      out: { type: 'string', default: 'dist/release' },
    },
  });
  const root = fileURLToPath(new URL('../..', import.meta.url));
  process.chdir(root);
  const { releaseVersion } = await import('nx/release');
  const plan = await releaseVersion({
    specifier: values.specifier,
    preid: values.preid,
    dryRun: true,
    gitCommit: false,
    gitTag: false,
    stageChanges: false,
    verbose: false,
  });
  const projects = Object.entries(plan.projectsVersionData);
  const versions = {};
  const dirs = {};
  for (const [project, data] of projects) if (data.newVersion) versions[project] = data.newVersion;
  // nx names projects by their package name; find each one's folder from the workspaces.
  for (const folder of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, folder))) {
      const manifest = JSON.parse(readFileSync(join(root, folder, name, 'package.json'), 'utf8'));
      if (manifest.name in versions) dirs[manifest.name] = `${folder}/${name}`;
    }
  }
  const out = resolve(root, values.out);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const staging = mkdtempSync(join(tmpdir(), 'nodeagent-release-'));
  const released = [];
  try {
    for (const [name, dir] of Object.entries(dirs).sort()) {
      const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
      if (manifest.private) continue;
      // The package as `npm pack` takes it from its folder (files, dist), then its package.json
      // as the publish would have it.
      const [packed] = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--pack-destination', staging, '-w', dir], {
          cwd: root,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      );
      const unpacked = join(staging, name.replace('/', '__'));
      mkdirSync(unpacked);
      execFileSync('tar', ['-xzf', join(staging, packed.filename), '-C', unpacked]);
      const next = releasedManifest(manifest, versions);
      writeFileSync(join(unpacked, 'package', 'package.json'), `${JSON.stringify(next, null, 2)}\n`);
      const [repacked] = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
          cwd: join(unpacked, 'package'),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      );
      released.push({
        manifest: next,
        tarball: repacked.filename,
        files: repacked.entryCount,
        size: repacked.size,
      });
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const problems = unsatisfiable(released.map((r) => r.manifest));
  const summary = released.map(({ manifest, tarball, files, size }) => ({
    name: manifest.name,
    version: manifest.version,
    tarball,
    files,
    bytes: size,
    internal: Object.fromEntries(
      DEPENDENCY_FIELDS.flatMap((f) => Object.entries(manifest[f] ?? {})).filter(([n]) => n in versions),
    ),
  }));
  writeFileSync(join(out, 'release-plan.json'), `${JSON.stringify(summary, null, 2)}\n`);
  for (const s of summary)
    console.log(`${s.name}@${s.version}  ${s.tarball}  ${s.files} files, ${(s.bytes / 1024).toFixed(0)} KiB`);
  if (problems.length > 0) {
    console.error(
      `release dry-run: ${problems.length} internal ranges a user cannot satisfy:\n  ${problems.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log(
    `release dry-run: ${summary.length} tarballs in ${out}; nothing published, no git commit or tag`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
