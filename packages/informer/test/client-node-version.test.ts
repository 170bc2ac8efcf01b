import { createRequire } from 'node:module';
import { KubeConfig } from '@kubernetes/client-node';
import loaded from '@kubernetes/client-node/package.json' with { type: 'json' };
import { expect, it } from 'vitest';

// The workspace tests against its devDependency (1.4.0); the Node 24 leg points
// `@kubernetes/client-node` at a 2.x copy (tools/compat/client-node.mjs) and says which in
// NODEAGENT_CLIENT_NODE_VERSION. This test prints what was loaded, so the leg's output shows it.
it('loads the @kubernetes/client-node this run is meant to test against', () => {
  const workspace = createRequire(import.meta.url)('@kubernetes/client-node/package.json') as {
    version: string;
  };
  const expected = process.env.NODEAGENT_CLIENT_NODE_VERSION ?? workspace.version;
  console.log(`@kubernetes/client-node ${loaded.version} loaded (expected ${expected})`);
  expect(loaded.version).toBe(expected);
  // The class the agents build their API access on is the one from that copy.
  expect(new KubeConfig().getContexts()).toEqual([]);
});
