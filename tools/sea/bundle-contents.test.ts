import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleTarget, DEFAULT_BUILD_OPTIONS } from './build.mjs';
import { sharedSeaBundle } from './shared-sea';
import { seaTargets } from './targets.mjs';

// What the executables' scripts carry of @kubernetes/client-node: both agents talk to the API
// server through KubeConfig only, so their bundles must not hold the generated model layer
// (about 2,500 classes) that the package's index would otherwise drag in.

const workDir = mkdtempSync(join(tmpdir(), `na-sea-bundle-${process.pid}-`));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const CLIENT_NODE = 'node_modules/@kubernetes/client-node/dist/';
const target = (name: string) => {
  const t = seaTargets().find((x) => x.name === name);
  if (!t) throw new Error(`no target ${name}`);
  return t;
};

/** Each app's bundle with the default options: the one the run's executables are made from (shared-sea.ts). */
const bundleOf = sharedSeaBundle;

/** Bytes the bundle holds from client-node files whose path (under dist/) matches. */
function clientNodeBytes(inputs: Record<string, number>, under: RegExp): number {
  return Object.entries(inputs)
    .filter(
      ([file]) =>
        file.includes(CLIENT_NODE) && under.test(file.slice(file.indexOf(CLIENT_NODE) + CLIENT_NODE.length)),
    )
    .reduce((sum, [, bytes]) => sum + bytes, 0);
}

/**
 * The script opens with the --version answer and then runs the app: no collections of its own,
 * no V8 flag set at run time, no re-exec, no priorities (issue 85).
 */
function expectNoTricks(script: string, name: string): void {
  expect(script.indexOf(`${name} v`)).toBeGreaterThan(0);
  expect(script.indexOf(`${name} v`)).toBeLessThan(script.indexOf('KubeConfig'));
  for (const trick of ['startHeapTrim', 'exposeGc', '--no-turbofan', 'execve', 'setPriority'])
    expect(script.includes(trick), `${name}'s script holds ${trick}`).toBe(false);
}

// Bundling takes a few seconds per app on a busy machine; the first test may wait for the run's
// bundle that another file's executable build is making (shared-sea.ts).
const BUNDLE_TIMEOUT_MS = 180_000;

describe('executable bundles', { timeout: BUNDLE_TIMEOUT_MS }, () => {
  it('kube-proxy carries KubeConfig but none of the generated models or typed APIs', async () => {
    const bundle = await bundleOf('nodeagent-kube-proxy');
    expect(clientNodeBytes(bundle.inputs, /^config\.js$/)).toBeGreaterThan(5_000);
    expect(clientNodeBytes(bundle.inputs, /^gen\/(models|apis|types)\//)).toBe(0);
    expectNoTricks(readFileSync(bundle.outfile, 'latin1'), 'nodeagent-kube-proxy');
  });

  it('without the side-effect-free treatment the same bundle holds the model layer', async () => {
    const bundle = await bundleTarget(target('nodeagent-kube-proxy'), join(workDir, 'unshaken'), {
      ...DEFAULT_BUILD_OPTIONS,
      sideEffectFreeClientNode: false,
      // The narrowed package index alone keeps api.js (the typed APIs, the models) out.
      narrowClientNodeIndex: false,
    });
    expect(clientNodeBytes(bundle.inputs, /^gen\/models\//)).toBeGreaterThan(100_000);
  });

  it('without the narrowed generated index, the kubelet (a required entry) holds the model layer again', async () => {
    const bundle = await bundleTarget(target('nodeagent-kubelet'), join(workDir, 'wide-gen-index'), {
      ...DEFAULT_BUILD_OPTIONS,
      narrowGenIndex: false,
    });
    expect(clientNodeBytes(bundle.inputs, /^gen\/models\//)).toBeGreaterThan(100_000);
  });

  it("both bundles take client-node's config, patch, middleware and types modules, not the rest of its index", async () => {
    for (const name of ['nodeagent-kube-proxy', 'nodeagent-kubelet']) {
      const bundle = await bundleOf(name);
      expect(clientNodeBytes(bundle.inputs, /^config\.js$/)).toBeGreaterThan(5_000);
      const unused =
        /^(attach|cache|cp|exec|health|informer|log|metrics|object|portforward|top|watch|yaml)\.js$/;
      expect(clientNodeBytes(bundle.inputs, unused)).toBe(0);
      expect(Object.keys(bundle.inputs).filter((f) => /node_modules\/(tar-fs|tar-stream)\//.test(f))).toEqual(
        [],
      );
    }
  });

  it("without the narrowed package index, the kubelet bundles (and evaluates) cp's tar-fs again", async () => {
    const bundle = await bundleTarget(target('nodeagent-kubelet'), join(workDir, 'wide-index'), {
      ...DEFAULT_BUILD_OPTIONS,
      narrowClientNodeIndex: false,
    });
    expect(clientNodeBytes(bundle.inputs, /^cp\.js$/)).toBeGreaterThan(0);
    expect(Object.keys(bundle.inputs).filter((f) => /node_modules\/tar-fs\//.test(f)).length).toBeGreaterThan(
      0,
    );
  });

  it("pino's caller lookup is the stub in both bundles, and pino's own module without the option", async () => {
    for (const name of ['nodeagent-kube-proxy', 'nodeagent-kubelet']) {
      const bundle = await bundleOf(name);
      expect(Object.keys(bundle.inputs)).toContain('nodeagent-pino-caller:pino-caller');
      expect(
        Object.keys(bundle.inputs).filter((f) => /node_modules\/pino\/lib\/caller\.js$/.test(f)),
      ).toEqual([]);
      expect(readFileSync(bundle.outfile, 'latin1')).not.toContain('getCallSites');
    }
    const wide = await bundleTarget(target('nodeagent-kube-proxy'), join(workDir, 'pino-callers'), {
      ...DEFAULT_BUILD_OPTIONS,
      noPinoCallers: false,
    });
    expect(
      Object.keys(wide.inputs).filter((f) => /node_modules\/pino\/lib\/caller\.js$/.test(f)),
    ).toHaveLength(1);
  });

  it("node-fetch gets Node's URL: no whatwg-url or tr46 polyfill in either bundle", async () => {
    for (const name of ['nodeagent-kube-proxy', 'nodeagent-kubelet']) {
      const bundle = await bundleOf(name);
      const polyfills = Object.keys(bundle.inputs).filter((f) => /node_modules\/(whatwg-url|tr46)\//.test(f));
      expect(polyfills).toEqual([]);
      expect(Object.keys(bundle.inputs)).toContain('nodeagent-node-url:whatwg-url');
    }
  });

  it('kubelet carries KubeConfig but none of the generated models or typed APIs', async () => {
    // Its API calls go through @nodeagent/informer's requests over KubeConfig (typed-requests.ts).
    const bundle = await bundleOf('nodeagent-kubelet');
    expect(clientNodeBytes(bundle.inputs, /^config\.js$/)).toBeGreaterThan(5_000);
    expect(clientNodeBytes(bundle.inputs, /^gen\/(models|apis|types)\//)).toBe(0);
    expectNoTricks(readFileSync(bundle.outfile, 'latin1'), 'nodeagent-kubelet');
  });

  it("both apps answer import('koffi') with the project's libc-calls addon, and carry nothing of koffi", async () => {
    for (const name of ['nodeagent-kubelet', 'nodeagent-kube-proxy']) {
      const bundle = await bundleOf(name);
      expect(bundle.assets['native/libc-calls.node']).toMatch(/\/libc-calls\.node$/);
      expect(Object.values(bundle.assets).filter((file) => /koffi/.test(String(file)))).toEqual([]);
      expect(Object.keys(bundle.inputs).filter((file) => /node_modules\/koffi\//.test(file))).toEqual([]);
    }
  });

  it("kubelet's CRI codecs carry protobufjs's minimal runtime, not its reflection or the JSON descriptor", async () => {
    // @nodeagent/cri-client's message-type.ts (issue #51): building the reflection root cost each
    // start ~11-18 ms at its first CRI call. grpc-js's proto-loader has its own protobufjs copy.
    const files = Object.keys((await bundleOf('nodeagent-kubelet')).inputs);
    expect(files).toContain('node_modules/protobufjs/src/reader.js');
    const reflection = files.filter((f) =>
      /^node_modules\/protobufjs\/src\/(type|root|field|namespace)\.js$/.test(f),
    );
    expect(reflection).toEqual([]);
    expect(files.filter((f) => f.endsWith('cri-client/src/generated/descriptor.ts'))).toEqual([]);
  });
});
