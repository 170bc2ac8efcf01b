// Native addons inside a single executable. Packages that ship prebuilt addons (netlink, under
// @nodeagent/ipvs) load them with `require('node-gyp-build')(__dirname + '/..')`, which looks for
// prebuilds/<platform>-<arch>/*.node beside the package: a bundle has no such directory, so the
// executable died at startup in every proxy mode ("No native build was found"). The plugin
// swaps node-gyp-build, per importing package, for a loader of that package's prebuilt N-API
// addon embedded as a SEA asset; embedded-addon.cjs writes it to a private directory and
// process.dlopen's it the first time the binding is used (only the modes that need it pay for it).
// koffi (the FFI behind the packages' few libc calls) is imported by name; the executable answers
// that import with those calls alone: the project's own addon (libc-calls.c, compiled by the
// build) behind koffi's face (koffi-subset.cjs), not koffi's 4.8 MB.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIBC_CALLS_ADDON_ASSET } from './libc-calls.mjs';
import { SeaBuildError } from './sea-build-error.mjs';

const NAMESPACE = 'sea-native-addon';
const SEA_DIR = dirname(fileURLToPath(import.meta.url));

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

/** The loader that replaces node-gyp-build for one package (embedded-addon.cjs does the loading). */
function loaderSource(assetKey) {
  return `
let loaded;
const load = () => (loaded ??= require(${JSON.stringify(join(SEA_DIR, 'embedded-addon.cjs'))}).loadEmbeddedAddon(${JSON.stringify(assetKey)}));
module.exports = () => new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });
`;
}

/** The module that stands for the koffi package: the libc calls' addon, loaded when first imported. */
function koffiSource(assetKey) {
  const loader = JSON.stringify(join(SEA_DIR, 'embedded-addon.cjs'));
  const subset = JSON.stringify(join(SEA_DIR, 'koffi-subset.cjs'));
  return `module.exports = require(${subset}).koffiSubset(require(${loader}).loadEmbeddedAddon(${JSON.stringify(assetKey)}));\n`;
}

/**
 * An esbuild plugin plus the SEA `assets` it fills: `{ 'native/<package>.node': <prebuild path> }`,
 * and the libc calls' addon, which `compileLibcCalls` makes (returning its path) when the bundle
 * imports koffi.
 */
export function nativeAddons(compileLibcCalls) {
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
      b.onResolve({ filter: /^koffi$/ }, () => {
        assets[LIBC_CALLS_ADDON_ASSET] ??= compileLibcCalls();
        return { path: LIBC_CALLS_ADDON_ASSET, namespace: NAMESPACE };
      });
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: args.path === LIBC_CALLS_ADDON_ASSET ? koffiSource(args.path) : loaderSource(args.path),
        resolveDir: SEA_DIR,
        loader: 'js',
      }));
    },
  };
  return { plugin, assets };
}
