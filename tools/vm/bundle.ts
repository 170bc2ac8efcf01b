import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Bundles a TypeScript entry (resolving workspace packages to their sources) into one ESM file
 * in a fresh temp dir, so the micro-VM loads one file instead of transpiling hundreds of
 * modules with tsx under TCG (that alone took minutes on a busy host, and most of the CPU a
 * micro-VM test costs the host). The guest sees the
 * host's /tmp, so the bundle is where the guest expects it. Native `netlink` stays external
 * (by absolute path). A bundle has no relay/ directory beside it: code opening IPVS in another
 * namespace passes `relayPath` (packages/ipvs/relay/netns-relay.mjs of this checkout, which the guest
 * sees at the same path); openIpvs rejects the call otherwise.
 */
export async function bundleForVm(
  entry: string,
  /** esbuild `define`s, e.g. the version stamp apps/ binaries read when they have no package.json. */
  define: Record<string, string> = {},
): Promise<{ file: string; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), `na-vm-bundle-${process.pid}-`));
  const file = join(dir, 'entry.mjs');
  const fixups: Plugin = {
    name: 'vm-fixups',
    setup(b) {
      b.onResolve({ filter: /^netlink$/ }, () => ({
        path: join(repoRoot, 'node_modules/netlink/dist/index.js'),
        external: true,
      }));
    },
  };
  try {
    await build({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@nodeagent/source'],
      plugins: [fixups],
      define,
      logLevel: 'error',
      // Less to parse: loading the bundle is most of the guest's start-up time under TCG.
      minify: true,
      // Error classes name themselves from their constructor (`IpvsAlreadyExistsError`), as in the
      // shipped packages.
      keepNames: true,
      // CommonJS dependencies inside an ESM bundle need require().
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
