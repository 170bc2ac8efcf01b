// The multi-call executable: one Node runtime that runs as the kubelet or as kube-proxy by the
// name it was started under, so a node that runs both agents stores the runtime once. The two
// agents' bundles and code caches are assets of their own; the native addons they share
// (netlink's, the libc calls') are stored once. The build writes `nodeagent` and the links
// `nodeagent-kubelet` and `nodeagent-kube-proxy` beside it, in a directory of their own so that
// dist/bin keeps the one-agent executables (the kube-proxy image takes its from there).
// Usage: node tools/sea/build.mjs --multi-call [--out dist/multi-call]
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleTarget, DEFAULT_BUILD_OPTIONS, makeExecutable, packApp } from './build.mjs';
import { ensureNode24, REPO_ROOT } from './node-runtime.mjs';
import { seaTargets } from './targets.mjs';

/** The multi-call executable's own file name. */
export const MULTI_CALL_NAME = 'nodeagent';

/** The agent a target is ('kubelet', 'kube-proxy'): its name without the `nodeagent-` prefix. */
export function agentOf(target) {
  return target.name.replace(/^nodeagent-/, '');
}

/**
 * The main script: picks the agent by the base name it was started under (`nodeagent-kubelet`
 * or `kubelet`, `nodeagent-kube-proxy` or `kube-proxy`), else by its first argument
 * (`nodeagent kubelet --help`), and runs that agent's launcher (build.mjs, `launcher`). Neither
 * says exit 2 with a line that names both.
 * @param {{ agent: string, launcher: string }[]} agents
 */
export function multiCallLauncher(agents) {
  const table = agents
    .map(({ agent, launcher }) => `  ${JSON.stringify(agent)}: () => {\n${launcher}\n  },\n`)
    .join('');
  const names = agents.map(({ agent }) => agent).join(' or ');
  return `'use strict';
const AGENTS = {
${table}};
const invoked = require('node:path').basename(process.argv0);
let agent = invoked.startsWith('nodeagent-') ? invoked.slice('nodeagent-'.length) : invoked;
if (!Object.hasOwn(AGENTS, agent)) {
  agent = process.argv[2];
  if (Object.hasOwn(AGENTS, agent)) {
    process.argv.splice(2, 1);
  } else {
    process.stderr.write(invoked + ': runs as ' + ${JSON.stringify(names)} + ' by the name it is started under (a link named nodeagent-<agent> or <agent>), or with the agent first: ' + invoked + ' <agent> [flags]\\n');
    process.exit(2);
  }
}
AGENTS[agent]();
`;
}

/**
 * Builds the multi-call executable into `outDir` with a link per agent; returns the executable
 * and the links. The SEA blob carries only the build's own `execArgv`: per-agent V8 flags such as
 * `--max-semi-space-size` cannot differ by name in one blob, so the units set them through
 * NODE_OPTIONS (deploy/systemd).
 */
export async function buildMultiCall({
  outDir = join(REPO_ROOT, 'dist', 'multi-call'),
  log = () => {},
  options = DEFAULT_BUILD_OPTIONS,
  bundler = bundleTarget,
} = {}) {
  const opts = { ...DEFAULT_BUILD_OPTIONS, ...options };
  const runtime = ensureNode24({ log });
  mkdirSync(outDir, { recursive: true });
  const workDir = join(outDir, '.sea-multi-call-work');
  mkdirSync(workDir, { recursive: true });
  try {
    const execArgv = [...opts.execArgv];
    const agents = [];
    let assets = {};
    for (const target of seaTargets()) {
      const bundle = await bundler(target, workDir, opts);
      for (const w of bundle.warnings) log(`warning (${target.name}): ${w.text}`);
      const app = packApp(runtime, target, bundle, workDir, execArgv, opts, log, {
        appAsset: `${target.name}.cjs`,
        codeCacheAsset: `${target.name}.code-cache`,
      });
      assets = { ...assets, ...bundle.assets, ...app.assets };
      agents.push({ agent: agentOf(target), launcher: app.launcher });
    }
    const main = join(workDir, `${MULTI_CALL_NAME}.launcher.cjs`);
    writeFileSync(main, multiCallLauncher(agents));
    const path = makeExecutable(runtime, main, join(outDir, MULTI_CALL_NAME), workDir, assets, {
      ...opts,
      execArgv,
    });
    const links = seaTargets().map((target) => {
      const link = join(outDir, target.name);
      rmSync(link, { force: true });
      symlinkSync(MULTI_CALL_NAME, link);
      return link;
    });
    log(`built ${path} (node ${runtime.version}), links ${links.join(', ')}`);
    return { path, links, node: runtime.version };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
