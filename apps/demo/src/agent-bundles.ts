/**
 * The agents (kubelet, kube-proxy, the namespace relays) as one esbuild bundle each. `npm start`
 * makes them once per run and removes them when it exits. A directory named by
 * NODEAGENT_DEMO_AGENT_BUNDLES that already holds them (writeAgentBundles) is used instead: the
 * end-to-end tests start the demo a dozen times, and bundling is the same 3–12 s of both cores
 * on every start. That directory also holds tools/containerd bundled (containerd.mjs), which the
 * demo then loads instead of the TypeScript source: a demo that runs from a bundle itself (the
 * end-to-end tests' runs) has no tsx to load a .ts file with.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleAppCli, bundleEntry } from '../../../tools/bundle/bundle-entry';
import { AGENT_BUNDLES_ENV, containerdToolBundle, containerdToolSource } from './agent-bundles-dir';
import { DemoError } from './errors';
import type { AgentEntries } from './node-agents';

/** The file of each agent's bundle in a bundles directory. */
const bundleFiles = { kubelet: 'kubelet.mjs', kubeProxy: 'kube-proxy.mjs', relays: 'netns-relay.mjs' };

const relaysEntry = fileURLToPath(new URL('./netns-relay.ts', import.meta.url));

/** Bundles every agent afresh; the bundles are removed when this process exits. */
export function bundledAgentEntries(): AgentEntries {
  const relays = bundleEntry(relaysEntry);
  process.once('exit', () => relays.dispose());
  return {
    kubelet: [bundleAppCli('kubelet')],
    kubeProxy: [bundleAppCli('kube-proxy')],
    relays: [relays.file],
  };
}

/**
 * Bundles every agent, and tools/containerd, into `dir` (which must exist), for
 * NODEAGENT_DEMO_AGENT_BUNDLES.
 */
export function writeAgentBundles(dir: string): void {
  const made = bundledAgentEntries();
  for (const key of Object.keys(bundleFiles) as (keyof AgentEntries)[]) {
    copyFileSync(made[key][0] as string, join(dir, bundleFiles[key]));
  }
  const containerd = bundleEntry(containerdToolSource);
  copyFileSync(containerd.file, join(dir, containerdToolBundle));
  containerd.dispose();
}

/** The bundles in the directory NODEAGENT_DEMO_AGENT_BUNDLES names; undefined when it is unset. */
export function prebuiltAgentEntries(env: NodeJS.ProcessEnv = process.env): AgentEntries | undefined {
  const dir = env[AGENT_BUNDLES_ENV];
  if (!dir) return undefined;
  const entries = {
    kubelet: [join(dir, bundleFiles.kubelet)],
    kubeProxy: [join(dir, bundleFiles.kubeProxy)],
    relays: [join(dir, bundleFiles.relays)],
  };
  for (const [file] of Object.values(entries)) {
    if (!existsSync(file as string))
      throw new DemoError(
        'INVALID_ENVIRONMENT',
        AGENT_BUNDLES_ENV,
        dir,
        `has no ${file} (see writeAgentBundles)`,
      );
  }
  return entries;
}
