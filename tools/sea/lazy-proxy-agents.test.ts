import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyProxyAgents } from './build.mjs';
import { REPO_ROOT } from './node-runtime.mjs';
import { sharedSeaBundle } from './shared-sea';

// build.mjs's lazyProxyAgents (issue #51): client-node's config.js gets proxy agents that load
// socks-proxy-agent / hpagent at their first `new`, so a start without a proxy-url never
// evaluates them; a cluster with one must still get the real agent.

const workDir = mkdtempSync(join(tmpdir(), `na-sea-lazy-proxy-${process.pid}-`));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** What the bundled probe prints: whether the packages ran before any agent, then each agent made. */
const PROBE = `
import { KubeConfig } from '@kubernetes/client-node';
const seen = { before: globalThis.__proxyPackagesLoaded ?? [] };
const agentFor = async (proxyUrl, server = 'https://127.0.0.1:6443') => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, proxyUrl, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const options = {};
  await kc.applyToHTTPSOptions(options);
  return options.agent?.constructor?.name;
};
(async () => {
  seen.socks = await agentFor('socks5://127.0.0.1:1080');
  seen.https = await agentFor('https://127.0.0.1:3128');
  seen.http = await agentFor('http://127.0.0.1:3128', 'http://127.0.0.1:8080');
  console.log(JSON.stringify(seen));
})();
`;

/** Marks each real proxy package's evaluation, so the probe can tell whether loading the client ran them. */
const markEvaluation = {
  name: 'mark-proxy-package-evaluation',
  setup(b: { onLoad: (o: { filter: RegExp }, cb: (a: { path: string }) => unknown) => void }) {
    b.onLoad(
      { filter: /node_modules[\\/](socks-proxy-agent[\\/]dist|hpagent)[\\/]index\.js$/ },
      async (args) => {
        const source = await readFile(args.path, 'utf8');
        const mark = `(globalThis.__proxyPackagesLoaded ??= []).push(${JSON.stringify(args.path.includes('hpagent') ? 'hpagent' : 'socks-proxy-agent')});\n`;
        return { contents: mark + source, loader: 'js' };
      },
    );
  },
};

describe('lazy proxy agents', { timeout: 180_000 }, () => {
  it('client-node loads without evaluating the proxy packages, and a proxy-url still gets the real agent', async () => {
    const entry = join(workDir, 'probe.mjs');
    const out = join(workDir, 'probe.cjs');
    writeFileSync(entry, PROBE);
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: out,
      logLevel: 'silent',
      // As the executables are built: class names kept, so each agent is named as published.
      keepNames: true,
      nodePaths: [join(REPO_ROOT, 'node_modules')],
      plugins: [lazyProxyAgents as never, markEvaluation as never],
    });
    const seen = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8' }).trim());
    expect(seen.before).toEqual([]);
    expect(seen.socks).toBe('SocksProxyAgent');
    expect(seen.https).toBe('HttpsProxyAgent');
    expect(seen.http).toBe('HttpProxyAgent');
  });

  it("the kubelet's bundle carries the lazy modules and, behind them, the real packages", async () => {
    const files = Object.keys((await sharedSeaBundle('nodeagent-kubelet')).inputs);
    expect(files).toContain('nodeagent-lazy-proxy-agent:socks-proxy-agent');
    expect(files).toContain('nodeagent-lazy-proxy-agent:hpagent');
    expect(files).toContain('node_modules/socks-proxy-agent/dist/index.js');
    expect(files).toContain('node_modules/hpagent/index.js');
  });
});
