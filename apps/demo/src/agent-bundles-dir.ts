/**
 * Where a prepared bundles directory is named (NODEAGENT_DEMO_AGENT_BUNDLES), and the module
 * tools/containerd is loaded from. Apart from agent-bundles.ts, which imports the agents'
 * entries, so that node-runtime.ts can find containerd without an import cycle through it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGENT_BUNDLES_ENV = 'NODEAGENT_DEMO_AGENT_BUNDLES';

/** tools/containerd, loaded by path: it is a repo tool, not a published package. */
export const containerdToolSource = fileURLToPath(
  new URL('../../../tools/containerd/containerd.ts', import.meta.url),
);
/** tools/containerd's bundle in a bundles directory. */
export const containerdToolBundle = 'containerd.mjs';

/**
 * The module to import tools/containerd from: its bundle in NODEAGENT_DEMO_AGENT_BUNDLES's
 * directory when that holds one, else its source (which needs tsx, as `npm start` has).
 */
export function containerdToolModule(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[AGENT_BUNDLES_ENV];
  const bundled = dir ? join(dir, containerdToolBundle) : undefined;
  return bundled && existsSync(bundled) ? bundled : containerdToolSource;
}
