#!/usr/bin/env node
// The packages as an outside user gets them: `node tools/consumer/consumer.mjs` packs every
// package under packages/ (from its built dist/: run `npm run build` first), installs the tarballs
// into a new app in the temp directory, outside the workspace, and runs each package README's
// first TypeScript/JavaScript example, extracted from the README itself so the README cannot rot,
// once as an ES module and once as CommonJS. Exit 1 if any example fails.
//
// Examples that need what a CI box must not give them (the host's iptables or IPVS table, a
// container runtime, a cluster) are only imported: every module they import must load and every
// value they name must exist. IMPORT_ONLY says which and why. As root, netfilter's example runs
// for real, inside a network namespace made for the run (IN_NETNS).
//
// Then EXTRA_CHECKS: the error guards across the two builds, a missing binary, a missing native
// addon, against the installed packages.
//
// Options: --node <path> runs the examples with another Node binary (default: this one);
// --keep leaves the temp directory for a look.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';

/**
 * README examples that are type-checked and imported but not run, and why, by `<package>#<n>`
 * (the n-th TypeScript/JavaScript block of the package's README, from 1).
 */
export const IMPORT_ONLY = {
  'cri-client#1': 'needs a running containerd and a locally built image',
  'cri-client#2': 'execs into a container of a running containerd',
  'ipvs#1': "programs the host network namespace's IPVS table (needs root and ip_vs)",
  'kube-proxy#2': "programs the host's iptables (root) from a cluster's Services",
  'kube-proxy#4': 'programs IPVS, dummy links, ipsets and sysctls (root, ip_vs, ip_set)',
  'kubelet#1': 'runs pods on containerd in cgroups (root, a container runtime)',
  'kubelet#2': 'runs pods on containerd (root, a container runtime)',
  'netfilter#1': "applies rules to the host network namespace's iptables and nftables",
  'netfilter#2': "applies rules to the host network namespace's iptables",
  'node-status#1': 'registers a Node with the cluster of ~/.kube/config',
  'testing#6': 'makes network namespaces and veth pairs (root)',
};

/**
 * Examples that change a network namespace's rules: as root they run inside a network namespace
 * made for that run and deleted after, never the host's; otherwise they are imported only.
 */
export const IN_NETNS = new Set(['netfilter#1', 'netfilter#2']);

/** Per example run; the installed examples finish in about a second. */
const EXAMPLE_TIMEOUT_MS = 60_000;

const EXAMPLE_BLOCK = /^```(?:ts|typescript|js|javascript|mjs)\n([\s\S]*?)^```/gm;

/** Every ```ts / ```js block of a README, in order. */
export function allExamples(readme) {
  return [...readme.matchAll(EXAMPLE_BLOCK)].map((match) => match[1]);
}

/** The first ```ts / ```js block of a README, or undefined. */
export function firstExample(readme) {
  return allExamples(readme)[0];
}

/**
 * The two TypeScript set-ups a library user has (issue #31): Node's own resolution
 * (`nodenext`, the app an ES module package) and a bundler's (`bundler` with `esnext`). Strict,
 * and the packages' declaration files are checked too (no skipLibCheck).
 */
export const TYPESCRIPT_SETUPS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
};

/** The app's tsconfig for one set-up: the examples in `typecheck/`, type-checked only. */
export function typescriptConfig(setup) {
  return {
    compilerOptions: {
      ...TYPESCRIPT_SETUPS[setup],
      target: 'es2022',
      lib: ['es2023'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      // Each example is a module of its own, even one without imports.
      moduleDetection: 'force',
    },
    include: ['typecheck/*.ts'],
  };
}

/** Where tsc's diagnostics about other packages' declaration files are filed (not failures). */
export const THIRD_PARTY = 'third-party';

/**
 * tsc's diagnostics grouped by the example file they are in (`typecheck/<name>.ts`). Lines about
 * this workspace's packages' declaration files (or naming no file) are under `''`, a failure;
 * lines about other packages' declaration files (`@peculiar/x509`'s need the DOM lib,
 * client-node's `isomorphic-ws` needs `@types/ws`) under THIRD_PARTY: they are those packages'
 * to fix, and a user's `skipLibCheck` hides them.
 */
export function diagnosticsByExample(output) {
  const byFile = new Map();
  let current = '';
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) {
      const example = /^typecheck\/([^(]+)\.ts\(/.exec(line)?.[1];
      if (example !== undefined) current = example;
      else if (/^node_modules\//.test(line) && !/^node_modules\/@nodeagent\//.test(line))
        current = THIRD_PARTY;
      else current = '';
    }
    byFile.set(current, [...(byFile.get(current) ?? []), line]);
  }
  return byFile;
}

function transpile(code, module) {
  return ts.transpileModule(code, {
    compilerOptions: { module, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
}

/**
 * The example as an ES module and as CommonJS. CommonJS has no top-level await, so its body runs
 * in an async function (the require() calls move in with it, which CommonJS allows).
 */
export function runnableExample(code) {
  const esm = transpile(code, ts.ModuleKind.ESNext);
  const cjs = transpile(code, ts.ModuleKind.CommonJS);
  return {
    esm,
    // Exit at once on an error, as an ES module's failed top-level await does (a server the
    // example started would otherwise keep the process alive).
    cjs: `(async () => {\n${cjs}\n})().catch((err) => {\n  console.error(err);\n  process.exit(1);\n});\n`,
  };
}

/**
 * Only the example's imports, checked: each module loads and each value it names exists (type
 * imports are left out, as the compiler leaves them out).
 */
export function importOnlyExample(code) {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.ES2022);
  const esm = [];
  const cjs = [];
  const checks = [];
  let i = 0;
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || statement.importClause?.isTypeOnly) continue;
    const specifier = JSON.stringify(statement.moduleSpecifier.text);
    const name = `m${i++}`;
    esm.push(`import * as ${name} from ${specifier};`);
    cjs.push(`const ${name} = require(${specifier});`);
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) {
        if (element.isTypeOnly) continue;
        const imported = (element.propertyName ?? element.name).text;
        checks.push(
          `if (${name}[${JSON.stringify(imported)}] === undefined) throw new Error(${JSON.stringify(`${statement.moduleSpecifier.text} has no export ${imported}`)});`,
        );
      }
    }
  }
  const tail = `${checks.join('\n')}\nconsole.log('imported ${i} modules');\n`;
  return { esm: `${esm.join('\n')}\n${tail}`, cjs: `${cjs.join('\n')}\n${tail}` };
}

/**
 * What the examples do not show but an outside user hits (issue #31), checked against the
 * installed tarballs: `[name, file, source, options]`. `hideNetlink` moves the native addon's
 * package away for the run, as on a platform without a prebuild.
 */
export const EXTRA_CHECKS = [
  [
    'error guards across the ESM and CJS builds',
    'errors-across-builds.mjs',
    `import { createRequire } from 'node:module';
import * as esm from '@nodeagent/primitives';
import * as ipvsEsm from '@nodeagent/ipvs';
const require = createRequire(import.meta.url);
const cjs = require('@nodeagent/primitives');
const ipvsCjs = require('@nodeagent/ipvs');
if (esm.CodedError === cjs.CodedError) throw new Error('expected two copies of CodedError');
const fromCjs = new cjs.InvalidDurationError('timeout', 'soon');
if (!esm.isInvalidDurationError(fromCjs) || !esm.isFieldError(fromCjs) || !esm.isCodedError(fromCjs, 'INVALID_DURATION'))
  throw new Error('the ESM guards miss an error of the CJS build');
if (!cjs.isInvalidDurationError(new esm.InvalidDurationError('timeout', 'soon')))
  throw new Error('the CJS guard misses an error of the ESM build');
if (esm.isInvalidQuantityError(fromCjs)) throw new Error('a guard matched another class');
if (!ipvsEsm.isIpvsUnavailableError(new ipvsCjs.IpvsUnavailableError('x')))
  throw new Error('ipvs: the ESM guard misses an error of the CJS build');
console.log('ok');
`,
    {},
  ],
  [
    "every package's isXxxError guards across the ESM and CJS builds",
    'all-guards-across-builds.mjs',
    `import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const root = new URL('../node_modules/@nodeagent/', import.meta.url);
const failures = [];
let checked = 0;
for (const dir of readdirSync(root)) {
  const manifest = JSON.parse(readFileSync(new URL(\`\${dir}/package.json\`, root), 'utf8'));
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (!target.import || !target.require) continue;
    const specifier = manifest.name + subpath.slice(1);
    const esm = await import(specifier);
    const cjs = require(specifier);
    // Each isXxxError next to its class XxxError: an instance of one build's class (made without
    // its constructor: the guards read only the prototype chain) must satisfy the other's guard.
    for (const [name, guard] of Object.entries(esm)) {
      const className = /^is([A-Z]\\w*Error)$/.exec(name)?.[1];
      if (typeof guard !== 'function' || !className) continue;
      if (typeof esm[className] !== 'function' || typeof cjs[className] !== 'function') {
        failures.push(\`\${specifier}: \${name} has no class \${className} in both builds\`);
        continue;
      }
      if (esm[className] === cjs[className]) continue; // one copy for both (a shared dependency's)
      // The guards compare class names: a bundler's rename (InvalidConfigError2 on a clash)
      // would break them and the errors' name.
      if (esm[className].name !== className || cjs[className].name !== className)
        failures.push(\`\${specifier}: \${className} is named \${esm[className].name} / \${cjs[className].name}\`);
      checked++;
      if (!guard(Object.create(cjs[className].prototype)))
        failures.push(\`\${specifier}: ESM \${name} misses a CJS \${className}\`);
      if (!cjs[name](Object.create(esm[className].prototype)))
        failures.push(\`\${specifier}: CJS \${name} misses an ESM \${className}\`);
      if (guard(new Error('x'))) failures.push(\`\${specifier}: \${name} matches a plain Error\`);
    }
  }
}
// cri-client's status guards also read the gRPC code of the other build's CriError.
const criEsm = await import('@nodeagent/cri-client');
const criCjs = require('@nodeagent/cri-client');
if (!criEsm.isNotFound(new criCjs.CriError('ContainerStatus', 5, 'gone', 'unix:///x.sock')))
  failures.push('cri-client: ESM isNotFound misses a CJS CriError');
if (!criCjs.isUnavailable(new criEsm.RuntimeUnreachableError('Version', 'down', 'unix:///x.sock')))
  failures.push('cri-client: CJS isUnavailable misses an ESM RuntimeUnreachableError');
if (checked < 20) failures.push(\`only \${checked} guards found\`);
if (failures.length > 0) throw new Error(failures.join('\\n'));
console.log(\`\${checked} guards recognise the other build's errors\`);
`,
    {},
  ],
  [
    'a missing nft is a typed error and the process exits',
    'missing-nft.cjs',
    `const { NftablesClient, isCommandNotFoundError } = require('@nodeagent/netfilter');
new NftablesClient({ family: 'inet', table: 'kube-proxy' }).list().then(
  () => { throw new Error('nft ran without a PATH'); },
  (err) => {
    if (!isCommandNotFoundError(err) || err.debianPackage !== 'nftables') throw err;
    console.log(err.message);
  },
);
`,
    { env: { PATH: '/nonexistent' } },
  ],
  [
    'the netlink addon loads where it is installed, from both builds',
    'netlink-loads.mjs',
    `import { createRequire } from 'node:module';
import { loadNetlinkAddon } from '@nodeagent/ipvs/netlink';
const cjs = createRequire(import.meta.url)('@nodeagent/ipvs/netlink');
for (const load of [loadNetlinkAddon, cjs.loadNetlinkAddon]) {
  const netlink = await load();
  if (typeof netlink.createNetlink !== 'function') throw new Error('not the netlink package');
}
console.log('ok');
`,
    {},
  ],
  [
    'ipvs without the native netlink addon: imports, then IpvsUnavailableError',
    'ipvs-without-addon.mjs',
    `import { createRequire } from 'node:module';
import { openIpvs, isIpvsUnavailableError } from '@nodeagent/ipvs';
createRequire(import.meta.url)('@nodeagent/ipvs/testing');
const err = await openIpvs().then(() => new Error('opened IPVS without the addon'), (e) => e);
// The reason must be the missing package itself: a bundled copy of netlink's JavaScript failed
// here with "Dynamic require of events is not supported" instead.
if (!isIpvsUnavailableError(err) || !/Cannot find (package|module) 'netlink'/.test(err.reason)) throw err;
console.log(err.message);
`,
    { hideNetlink: true },
  ],
];

/** The packages that carry the native `netlink` addon as an optional dependency, and what they need. */
export const NETLINK_USERS = ['primitives', 'informer', 'ipvs', 'netfilter', 'kube-proxy'];

/**
 * Installs the packages that use `netlink` into an app of their own as on a platform where no
 * prebuilt addon fits and building it fails (musl or macOS without a toolchain): npm is told to
 * build from source with a compiler that always fails. The install must still succeed (netlink is
 * an optional dependency), and the packages must import and report IPVS as unavailable. Returns
 * a failure text, or undefined.
 */
function installWithoutAddon(work, tarballOf, node) {
  const app = join(work, 'app-without-addon');
  mkdirSync(app);
  const dependencies = Object.fromEntries(
    NETLINK_USERS.map((dir) => [`@nodeagent/${dir}`, `file:${tarballOf(dir)}`]),
  );
  dependencies['@kubernetes/client-node'] = '^1.4.0';
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'nodeagent-no-addon', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  const install = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, npm_config_build_from_source: 'true', CC: 'false', CXX: 'false' },
    },
  );
  if (install.status !== 0) return `npm install failed when netlink cannot be built:\n${install.stderr}`;
  if (existsSync(join(app, 'node_modules', 'netlink')))
    return 'netlink was installed although its build was made to fail';
  writeFileSync(
    join(app, 'check.mjs'),
    `import { openIpvs, isIpvsUnavailableError } from '@nodeagent/ipvs';
import '@nodeagent/netfilter';
import '@nodeagent/kube-proxy';
const err = await openIpvs().then(() => new Error('opened IPVS without the addon'), (e) => e);
if (!isIpvsUnavailableError(err) || !/Cannot find (package|module) 'netlink'/.test(err.reason)) throw err;
console.log(err.reason);
`,
  );
  const run = spawnSync(node, ['check.mjs'], { cwd: app, encoding: 'utf8', timeout: EXAMPLE_TIMEOUT_MS });
  if (run.status !== 0)
    return `${run.error?.message ?? run.signal ?? `exit ${run.status}`}\n${run.stdout}${run.stderr}`;
  console.log(`ok   install where netlink cannot be built: installs without it; ${run.stdout.trim()}`);
  return undefined;
}

function main() {
  const { values } = parseArgs({
    options: {
      node: { type: 'string', default: process.execPath },
      keep: { type: 'boolean', default: false },
    },
  });
  // The examples run in the app's directory: a relative --node is the caller's.
  const node = resolve(values.node);
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const packages = readdirSync(join(root, 'packages'))
    .filter((dir) => {
      try {
        return !JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).private;
      } catch {
        return false;
      }
    })
    .sort();
  const work = mkdtempSync(join(tmpdir(), 'nodeagent-consumer-'));
  const tarballs = join(work, 'tarballs');
  const app = join(work, 'app');
  mkdirSync(tarballs);
  mkdirSync(join(app, 'examples'), { recursive: true });
  mkdirSync(join(app, 'typecheck'));
  const failures = [];
  try {
    const packed = JSON.parse(
      execFileSync(
        'npm',
        [
          'pack',
          '--json',
          '--pack-destination',
          tarballs,
          ...packages.flatMap((dir) => ['-w', `packages/${dir}`]),
        ],
        { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    const dependencies = Object.fromEntries(
      packed.map((p) => [p.name, `file:${join(tarballs, p.filename)}`]),
    );
    // The peer dependency the READMEs tell a Node 20 user to install (2.x needs Node 22.19+).
    dependencies['@kubernetes/client-node'] = '^1.4.0';
    // The examples are type-checked with this workspace's TypeScript against Node 20's types;
    // the app is an ES module package, as `nodenext` needs for top-level await in a .ts file.
    const devDependencies = {
      '@types/node': JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies[
        '@types/node'
      ],
    };
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'nodeagent-consumer', private: true, type: 'module', dependencies, devDependencies }, null, 2)}\n`,
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: app,
      stdio: 'inherit',
    });
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    const examples = [];
    for (const dir of packages) {
      const found = allExamples(readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8'));
      if (found.length === 0) failures.push(`${dir}: README has no TypeScript/JavaScript example`);
      for (const [i, code] of found.entries())
        examples.push({ name: `${dir}#${i + 1}`, file: `${dir}-${i + 1}`, code });
    }
    for (const { file, code } of examples) writeFileSync(join(app, 'typecheck', `${file}.ts`), code);
    for (const setup of Object.keys(TYPESCRIPT_SETUPS)) {
      writeFileSync(
        join(app, `tsconfig.${setup}.json`),
        `${JSON.stringify(typescriptConfig(setup), null, 2)}\n`,
      );
      const tsc = spawnSync(
        process.execPath,
        [
          join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          `tsconfig.${setup}.json`,
          '--pretty',
          'false',
        ],
        { cwd: app, encoding: 'utf8' },
      );
      const byExample = diagnosticsByExample(`${tsc.stdout}${tsc.stderr}`);
      for (const { name, file } of examples) {
        const errors = byExample.get(file);
        if (errors) {
          console.log(`FAIL ${name} type-checks (${setup}):\n  ${errors.join('\n  ')}`);
          failures.push(`${name} type-check (${setup})`);
        } else if (tsc.status === 0 || byExample.size > 0) {
          console.log(`ok   ${name} type-checks (${setup})`);
        }
      }
      const thirdParty = byExample.get(THIRD_PARTY)?.filter((line) => !line.startsWith(' '));
      if (thirdParty) {
        const files = [...new Set(thirdParty.map((line) => line.replace(/\(.*/, '')))];
        console.log(
          `note ${thirdParty.length} errors in other packages' declarations (${setup}; hidden by skipLibCheck): ${files.join(', ')}`,
        );
      }
      const elsewhere = byExample.get('');
      if (elsewhere || (tsc.status !== 0 && byExample.size === 0)) {
        console.log(
          `FAIL type-check (${setup}) outside the examples:\n  ${(elsewhere ?? [tsc.stdout, tsc.stderr]).join('\n  ')}`,
        );
        failures.push(`type-check (${setup}) outside the examples`);
      }
    }
    for (const { name, file: base, code } of examples) {
      const inNetns = IN_NETNS.has(name) && process.getuid?.() === 0;
      const reason = inNetns ? undefined : IMPORT_ONLY[name];
      const files = reason ? importOnlyExample(code) : runnableExample(code);
      for (const [kind, text] of Object.entries(files)) {
        const file = join(app, 'examples', `${base}.${kind === 'esm' ? 'mjs' : 'cjs'}`);
        writeFileSync(file, text);
        const netns = inNetns ? `na-consumer-${process.pid}-${kind}` : undefined;
        let run;
        if (netns) execFileSync('ip', ['netns', 'add', netns]);
        try {
          const argv = netns ? ['ip', 'netns', 'exec', netns, node, file] : [node, file];
          run = spawnSync(argv[0], argv.slice(1), {
            cwd: app,
            encoding: 'utf8',
            timeout: EXAMPLE_TIMEOUT_MS,
          });
        } finally {
          if (netns) execFileSync('ip', ['netns', 'del', netns]);
        }
        const how = reason
          ? `imports only: ${reason}`
          : netns
            ? 'runs in a network namespace of its own'
            : 'runs';
        const what = `${name} ${kind.toUpperCase()} (${how}) on Node ${version}`;
        if (run.status === 0) {
          console.log(`ok   ${what}`);
        } else {
          const why = run.error
            ? run.error.message
            : run.signal
              ? `killed by ${run.signal}`
              : `exit ${run.status}`;
          console.log(`FAIL ${what}: ${why}\n${run.stdout}${run.stderr}`);
          failures.push(`${name} ${kind}: ${why}`);
        }
      }
    }
    for (const [name, file, text, options] of EXTRA_CHECKS) {
      const path = join(app, 'examples', file);
      writeFileSync(path, text);
      const netlink = join(app, 'node_modules', 'netlink');
      if (options.hideNetlink) renameSync(netlink, `${netlink}.hidden`);
      let run;
      try {
        run = spawnSync(node, [path], {
          cwd: app,
          encoding: 'utf8',
          timeout: EXAMPLE_TIMEOUT_MS,
          env: { ...process.env, ...options.env },
        });
      } finally {
        if (options.hideNetlink) renameSync(`${netlink}.hidden`, netlink);
      }
      if (run.status === 0) {
        console.log(`ok   ${name}: ${run.stdout.trim()}`);
      } else {
        const why = run.error
          ? run.error.message
          : run.signal
            ? `killed by ${run.signal}`
            : `exit ${run.status}`;
        console.log(`FAIL ${name}: ${why}\n${run.stdout}${run.stderr}`);
        failures.push(`${name}: ${why}`);
      }
    }
    const byDir = new Map(packed.map((p) => [p.name.replace('@nodeagent/', ''), join(tarballs, p.filename)]));
    const withoutAddon = installWithoutAddon(work, (dir) => byDir.get(dir), node);
    if (withoutAddon) {
      console.log(`FAIL install where netlink cannot be built: ${withoutAddon}`);
      failures.push('install where netlink cannot be built');
    }
  } finally {
    if (values.keep) console.log(`left in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.error(`consumer: ${failures.length} failed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`consumer: ${packages.length} packages, every README example ok`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
