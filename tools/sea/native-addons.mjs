// Native addons inside a single executable. Packages that ship prebuilt addons (netlink, under
// @nodeagent/ipvs) load them with `require('node-gyp-build')(__dirname + '/..')`, which looks for
// prebuilds/<platform>-<arch>/*.node beside the package: a bundle has no such directory, so the
// executable died at startup in every proxy mode ("No native build was found"). The plugin
// swaps node-gyp-build, per importing package, for a loader of that package's prebuilt N-API
// addon embedded as a SEA asset; the addon is written to a private temp directory and
// process.dlopen'ed the first time the binding is used (only the modes that need it pay for it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { SeaBuildError } from './sea-build-error.mjs';

const NAMESPACE = 'sea-native-addon';

/** The directory of the package.json that owns `file`. */
function packageRoot(file) {
  let d = dirname(file);
  while (!existsSync(join(d, 'package.json'))) {
    if (d === parse(d).root) throw new SeaBuildError('ADDON_PACKAGE', file, 'no package.json above it');
    d = dirname(d);
  }
  return d;
}

/** The linux-x64 prebuild of a package: the N-API one, which any Node version can load. */
function linuxX64Prebuild(root) {
  const dir = join(root, 'prebuilds', 'linux-x64');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
  const napi = files.find((f) => f.includes('napi'));
  if (!napi) throw new SeaBuildError('ADDON_PREBUILD', dir, 'no N-API prebuild for linux-x64');
  return join(dir, napi);
}

/** The loader that replaces node-gyp-build for one package. */
function loaderSource(assetKey) {
  return `
let loaded;
function load() {
  if (loaded) return loaded;
  const { getAsset } = require('node:sea');
  const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const { tmpdir } = require('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'nodeagent-addon-'));
  const file = join(dir, 'addon.node');
  try {
    writeFileSync(file, new Uint8Array(getAsset(${JSON.stringify(assetKey)})), { mode: 0o500 });
    const m = { exports: {} };
    process.dlopen(m, file);
    loaded = m.exports;
  } finally {
    // Linux keeps the mapped library after the file is gone.
    rmSync(dir, { recursive: true, force: true });
  }
  return loaded;
}
module.exports = () => new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });
`;
}

/**
 * An esbuild plugin plus the SEA `assets` it fills: `{ 'native/<package>.node': <prebuild path> }`.
 */
export function nativeAddons() {
  const assets = {};
  const plugin = {
    name: 'sea-native-addons',
    setup(b) {
      b.onResolve({ filter: /^node-gyp-build$/ }, (args) => {
        const root = packageRoot(args.importer);
        const { name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
        const key = `native/${name}.node`;
        assets[key] = linuxX64Prebuild(root);
        return { path: key, namespace: NAMESPACE };
      });
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: loaderSource(args.path),
        loader: 'js',
      }));
    },
  };
  return { plugin, assets };
}
