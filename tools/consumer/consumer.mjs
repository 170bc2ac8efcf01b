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

/** Packages whose first README example is imported, not run, and why. */
export const IMPORT_ONLY = {
  'cri-client': 'needs a running containerd and a locally built image',
  ipvs: "programs the host network namespace's IPVS table (needs root and ip_vs)",
  kubelet: 'a fragment: wires a Kubelet from a config and clients built elsewhere',
  netfilter: "applies rules to the host network namespace's iptables",
  'node-status': 'registers a Node with the cluster of ~/.kube/config',
};

/**
 * Packages whose example changes a network namespace's rules: as root it runs inside a network
 * namespace made for that run and deleted after, never the host's; otherwise it is imported only.
 */
export const IN_NETNS = new Set(['netfilter']);

/** Per example run; the installed examples finish in about a second. */
const EXAMPLE_TIMEOUT_MS = 60_000;

/** The first ```ts / ```js block of a README, or undefined. */
export function firstExample(readme) {
  const match = /^```(?:ts|typescript|js|javascript|mjs)\n([\s\S]*?)^```/m.exec(readme);
  return match?.[1];
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
    'ipvs without the native netlink addon: imports, then IpvsUnavailableError',
    'ipvs-without-addon.mjs',
    `import { createRequire } from 'node:module';
import { openIpvs, isIpvsUnavailableError } from '@nodeagent/ipvs';
createRequire(import.meta.url)('@nodeagent/ipvs/testing');
const err = await openIpvs().then(() => new Error('opened IPVS without the addon'), (e) => e);
if (!isIpvsUnavailableError(err) || !/netlink/.test(err.reason)) throw err;
console.log(err.message);
`,
    { hideNetlink: true },
  ],
];

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
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'nodeagent-consumer', private: true, dependencies }, null, 2)}\n`,
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: app,
      stdio: 'inherit',
    });
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    for (const dir of packages) {
      const code = firstExample(readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8'));
      if (code === undefined) {
        failures.push(`${dir}: README has no TypeScript/JavaScript example`);
        continue;
      }
      const inNetns = IN_NETNS.has(dir) && process.getuid?.() === 0;
      const reason = inNetns ? undefined : IMPORT_ONLY[dir];
      const files = reason ? importOnlyExample(code) : runnableExample(code);
      for (const [kind, text] of Object.entries(files)) {
        const file = join(app, 'examples', `${dir}.${kind === 'esm' ? 'mjs' : 'cjs'}`);
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
        const what = `${dir} ${kind.toUpperCase()} (${how}) on Node ${version}`;
        if (run.status === 0) {
          console.log(`ok   ${what}`);
        } else {
          const why = run.error
            ? run.error.message
            : run.signal
              ? `killed by ${run.signal}`
              : `exit ${run.status}`;
          console.log(`FAIL ${what}: ${why}\n${run.stdout}${run.stderr}`);
          failures.push(`${dir} ${kind}: ${why}`);
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
