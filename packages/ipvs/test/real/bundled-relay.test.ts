/**
 * The namespace transport inside an esbuild CommonJS bundle, built the way tools/sea builds the
 * single executables (source condition, cjs format): import.meta is empty there and no relay/
 * directory sits beside the bundle. Without `relayPath` the transport must refuse with a typed
 * error before starting anything; with it, the relay runs in a fresh namespace (this kernel has
 * no IPVS, so the relay's answer is IpvsUnavailableError).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRelayPath } from '../../src/index';
import { InvalidFieldError } from '../../src/netlink/index';

const pkgRoot = fileURLToPath(new URL('../../', import.meta.url));
const relay = join(pkgRoot, 'relay', 'netns-relay.mjs');
const ns = `na-ipvs-bundle-${process.pid}-${randomBytes(3).toString('hex')}`;
let dir: string;
let bundle: string;

// Runs inside the bundle: opens IPVS in the namespace given as argv[2], with argv[3] as
// relayPath when present, and prints what happened as one JSON line.
const ENTRY = `
import { openIpvs, NetnsTransport } from '@nodeagent/ipvs';
async function main() {
  const [netnsPath, relayPath] = process.argv.slice(2);
  const out = {};
  try {
    new NetnsTransport(netnsPath).close();
    out.transport = 'started';
  } catch (e) {
    out.transport = { name: e.name, code: e.code, message: e.message, tried: e.tried };
  }
  try {
    const h = await openIpvs({ netnsPath, relayPath });
    h.close();
    out.open = 'opened';
  } catch (e) {
    out.open = { name: e.name, code: e.code };
  }
  process.stdout.write(JSON.stringify(out) + '\\n');
}
main();
`;

async function runBundle(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [bundle, ...args], { timeout: 30_000 });
  return JSON.parse(stdout.trim());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-ipvs-cjs-${process.pid}-`));
  const entry = join(dir, 'entry.mjs');
  writeFileSync(entry, ENTRY);
  bundle = join(dir, 'bundle.cjs');
  await build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@nodeagent/source'],
    // Resolve @nodeagent/ipvs from the workspace, as tools/sea does.
    nodePaths: [join(pkgRoot, '..', '..', 'node_modules')],
    // The native addon stays outside (tools/sea embeds it as an asset instead).
    plugins: [
      {
        name: 'netlink-external',
        setup(b) {
          b.onResolve({ filter: /^netlink$/ }, () => ({
            path: join(pkgRoot, '..', '..', 'node_modules', 'netlink', 'dist', 'index.js'),
            external: true,
          }));
        },
      },
    ],
    logLevel: 'silent',
  });
  execFileSync('ip', ['netns', 'add', ns]);
}, 60_000);

afterAll(() => {
  try {
    execFileSync('ip', ['netns', 'del', ns]);
  } catch {}
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('resolveRelayPath from source', () => {
  it("finds the package's relay from this module's location, and checks an explicit path", () => {
    expect(resolveRelayPath()).toBe(relay);
    expect(resolveRelayPath(relay)).toBe(relay);
    expect(() => resolveRelayPath(join(pkgRoot, 'nope.mjs'))).toThrow(InvalidFieldError);
  });
});

describe('NetnsTransport in a CommonJS bundle (no import.meta, no relay/ beside it)', () => {
  it('refuses with NetnsRelayMissingError naming where it looked, before starting a relay', async () => {
    const r = await runBundle(`/run/netns/${ns}`);
    expect(r.transport).toMatchObject({ name: 'NetnsRelayMissingError', code: 'IPVS_NETNS_RELAY_MISSING' });
    const t = r.transport as { message: string; tried: string[] };
    // It looked beside the bundle (its __dirname), not at an undefined URL.
    expect(t.tried).toEqual([join(dir, '..', 'relay', 'netns-relay.mjs')]);
    expect(t.message).toContain('relayPath');
    expect(r.open).toEqual({ name: 'NetnsRelayMissingError', code: 'IPVS_NETNS_RELAY_MISSING' });
  });

  it('runs the relay given as relayPath inside the namespace', async () => {
    const r = await runBundle(`/run/netns/${ns}`, relay);
    // The relay answered the family lookup from inside the namespace: this kernel has no IPVS.
    expect(r.open).toEqual({ name: 'IpvsUnavailableError', code: 'IPVS_UNAVAILABLE' });
  });

  it('rejects a relayPath that does not exist', async () => {
    const r = await runBundle(`/run/netns/${ns}`, join(dir, 'missing-relay.mjs'));
    expect(r.open).toEqual({ name: 'InvalidFieldError', code: 'IPVS_INVALID_FIELD' });
  });
});
