#!/usr/bin/env node
// `npm run bench`: runs every workspace's `bench` script in turn (they share two cores, so never
// at once); each writes its JSON results to bench-results/<package>.json.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from './run-child.mjs';

const root = new URL('..', import.meta.url).pathname;
mkdirSync(join(root, 'bench-results'), { recursive: true });
const only = process.argv.slice(2);
// `npm run bench -- soak [flags]`: both agents for an hour of churn (tools/soak/soak.bench.ts;
// its flags in tools/soak/soak-options.ts); never part of a plain `npm run bench`.
if (only[0] === 'soak') {
  const soak = join(root, 'tools/soak/soak.bench.ts');
  // tsx as a loader, not its CLI: the CLI's parent SIGKILLs a child that has not answered a
  // relayed Ctrl-C within 60 ms, which on a busy machine skipped the soak's cleanup (containerd,
  // the agents, namespaces and cgroups left running). runChild passes a signal on and waits.
  const soakArgs = ['--conditions=@nodeagent/source', '--import', 'tsx', soak, ...only.slice(1)];
  const { status } = await runChild(process.execPath, soakArgs, { cwd: root });
  if (status !== 0) {
    // 130: interrupted, which the soak has said itself.
    if (status !== 130) console.error('soak failed');
    process.exit(status);
  }
  console.log(`\nresults in ${join(root, 'bench-results')}`);
  process.exit(0);
}
const dirs = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).map((dir) => join(root, group, dir)),
);
let failed = 0;
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // `bench`, plus any `bench:<part>` (e.g. kube-proxy's bench:userspace).
  const scripts = Object.keys(pkg.scripts ?? {}).filter((s) => s === 'bench' || s.startsWith('bench:'));
  if (scripts.length === 0) continue;
  // `npm run bench -- kubelet` runs a package's benches; `-- kubelet-executable` one of them
  // (nodeagent-kubelet's bench:executable); `-- csi` a bench named so in whichever package
  // (nodeagent-kubelet's bench:csi).
  const short = pkg.name.replace(/^@nodeagent\//, '').replace(/^nodeagent-/, '');
  const chosen = (script) =>
    only.length === 0 ||
    only.some(
      (name) =>
        pkg.name.includes(name) ||
        name === `${short}-${script.slice('bench:'.length)}` ||
        name === script.slice('bench:'.length),
    );
  for (const script of scripts.filter(chosen)) {
    console.log(`\n=== ${script} ${pkg.name}`);
    const { status, signal } = await runChild('npm', ['run', script], { cwd: dir });
    // An interrupted bench ends the run: the next one is not what was asked for any more.
    if (signal) process.exit(status === 0 ? 130 : status);
    if (status !== 0) {
      failed++;
      console.error(`${script} ${pkg.name} failed`);
    }
  }
}
console.log(`\nresults in ${join(root, 'bench-results')}`);
process.exit(failed > 0 ? 1 : 0);
