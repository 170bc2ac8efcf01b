import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFunction, Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { appScriptSource } from './app-script.cjs';
import { launcher, packApp } from './build.mjs';
import { seaTargets } from './targets.mjs';

// The executable's main script when its app is an asset: it answers --version before it reads
// and compiles the app's bundle, and never executes itself again. Run here with node:sea,
// node:vm and process stood in for.
const kubelet = seaTargets().find((t) => t.name === 'nodeagent-kubelet');
if (!kubelet) throw new Error('no nodeagent-kubelet target');

class Execve extends Error {}
let runs = 0;

/** The app's script as a fake asset: a source of its own per run (see getAsset below). */
const appScript = () =>
  appScriptSource(`require("app-module"); module.exports = __filename; // run ${++runs}`);

function runLauncher(
  argv: string[],
  env: Record<string, string | undefined>,
  options: { codeCache?: boolean; externalSource?: boolean } = {},
  dlopen?: (module: { exports: unknown }, file: string) => void,
) {
  const steps: string[] = [];
  const fakeProcess = {
    dlopen,
    platform: 'linux',
    argv: ['/bin/nodeagent-kubelet', '/bin/nodeagent-kubelet', ...argv],
    argv0: 'nodeagent-kubelet',
    execPath: '/bin/nodeagent-kubelet',
    env,
    stdout: { write: (text: string) => steps.push(`stdout ${text.trim()}`) },
    stderr: { write: (text: string) => steps.push(`stderr ${text.trim()}`) },
    exit: () => {
      steps.push('exit');
      throw new Execve();
    },
    execve: () => {
      steps.push('execve');
      throw new Execve();
    },
  };
  const fakeRequire = (id: string) => {
    if (id === 'node:vm')
      return {
        // Records the code cache it is handed; a cache this V8 did not make is rejected, as in the executable.
        Script: class extends Script {
          constructor(code: string, options: { cachedData?: Buffer }) {
            if (options.cachedData)
              steps.push(`compile with ${options.cachedData.length} bytes of code cache`);
            super(code, options);
          }
        },
        constants: { USE_MAIN_CONTEXT_DEFAULT_LOADER: undefined },
      };
    if (id === 'node:sea')
      return {
        getAsset: (key: string) => {
          steps.push(`getAsset ${key}`);
          // A source of its own per run: V8 takes a script it compiled before in this process from its
          // in-memory compilation cache and then never looks at the code cache it is handed.
          return appScript();
        },
        getRawAsset: (key: string) => {
          steps.push(`getRawAsset ${key}`);
          if (key === 'nodeagent-app.cjs') return new Uint8Array(Buffer.from(appScript(), 'latin1')).buffer;
          return new Uint8Array([1, 2, 3, 4]).buffer;
        },
      };
    // The addon loader the launcher carries inline writes and opens the addon with these.
    if (id === 'node:fs' || id === 'node:os' || id === 'node:path') return createRequire(import.meta.url)(id);
    steps.push(`app require ${id}`);
    return {};
  };
  const module = { exports: {} as unknown };
  const script = compileFunction(
    launcher(kubelet as never, '0.1.0', '/build/nodeagent-kubelet.cjs', options),
    ['exports', 'require', 'module', '__filename', '__dirname', 'process'],
  );
  try {
    script(module.exports, fakeRequire, module, '/bin/nodeagent-kubelet', '/bin', fakeProcess);
  } catch (error) {
    if (!(error instanceof Execve)) throw error;
  }
  return { steps, exported: module.exports };
}

describe('the single executable launcher', () => {
  it('answers --version without the app', () => {
    expect(runLauncher(['--version'], {}).steps).toEqual(['stdout Kubernetes v1.36.3', 'exit']);
  });

  it('runs the app from its asset with the CommonJS arguments, without executing itself again', () => {
    const { steps, exported } = runLauncher(['--help'], {});
    expect(steps).toEqual(['getAsset nodeagent-app.cjs', 'app require app-module']);
    expect(exported).toBe('/bin/nodeagent-kubelet');
  });

  it("hands V8 the build's code cache for the app, and says with NODEAGENT_SEA_TRACE=1 whether V8 took it", () => {
    const { steps, exported } = runLauncher(['--help'], { NODEAGENT_SEA_TRACE: '1' }, { codeCache: true });
    expect(steps).toEqual([
      'getRawAsset nodeagent-app.code-cache',
      'getAsset nodeagent-app.cjs',
      'compile with 4 bytes of code cache',
      `stderr nodeagent-sea: app source copied to the heap (built so) (${appScript().length} bytes)`,
      // Four bytes are no cache of this V8's: compiled from the source, and said so.
      'stderr nodeagent-sea: app code cache rejected (4 bytes)',
      'app require app-module',
    ]);
    expect(exported).toBe('/bin/nodeagent-kubelet');
  });

  it('says nothing about the cache without NODEAGENT_SEA_TRACE', () => {
    const { steps } = runLauncher(['--help'], {}, { codeCache: true });
    expect(steps.filter((step) => step.startsWith('stderr'))).toEqual([]);
  });

  it('hands V8 the app source as the addon makes it over the raw asset, not a copy', () => {
    const opened: string[] = [];
    const dlopen = (m: { exports: unknown }, file: string) => {
      opened.push(file);
      // The addon's answer for an ArrayBuffer (external-source.c): its bytes as a string, not copied.
      m.exports = {
        externalLatin1: (bytes: ArrayBuffer) => ({
          text: Buffer.from(bytes).toString('latin1'),
          copied: false,
        }),
      };
    };
    const { steps, exported } = runLauncher(
      ['--help'],
      { NODEAGENT_SEA_TRACE: '1' },
      { externalSource: true },
      dlopen,
    );
    expect(opened).toEqual([expect.stringMatching(/\/nodeagent-addon-[^/]+\/external-source\.node$/)]);
    expect(steps).toEqual([
      'getRawAsset native/external-source.node',
      'getRawAsset nodeagent-app.cjs',
      expect.stringMatching(/^stderr nodeagent-sea: app source in the executable \(\d+ bytes\)$/),
      'app require app-module',
    ]);
    expect(exported).toBe('/bin/nodeagent-kubelet');
  });

  it('compiles a copy on the heap when the addon cannot be loaded, and says why with NODEAGENT_SEA_TRACE=1', () => {
    const dlopen = () => {
      throw new Error('failed to map segment from shared object');
    };
    const { steps, exported } = runLauncher(
      ['--help'],
      { NODEAGENT_SEA_TRACE: '1' },
      { externalSource: true },
      dlopen,
    );
    expect(steps[0]).toBe('getRawAsset native/external-source.node');
    expect(steps[1]).toBe('getAsset nodeagent-app.cjs');
    expect(steps[2]).toMatch(
      /^stderr nodeagent-sea: app source copied to the heap \(cannot load external-source\.node \(.*failed to map segment from shared object/,
    );
    expect(steps[3]).toBe('app require app-module');
    expect(exported).toBe('/bin/nodeagent-kubelet');
  });

  it('is refused a bundle with a character above U+007F, which its Latin-1 string would misread', () => {
    const dir = mkdtempSync(join(tmpdir(), `na-launcher-${process.pid}-`));
    try {
      const outfile = join(dir, 'app.cjs');
      writeFileSync(outfile, 'module.exports = "\u00b5s";\n', 'utf8');
      const pack = () =>
        packApp(
          { node: join(dir, 'no-node') } as never,
          kubelet as never,
          { outfile, version: '0.1.0' } as never,
          dir,
          [],
          {
            appCodeCache: false,
            externalAppSource: true,
          } as never,
          () => {},
        );
      expect(pack).toThrow(expect.objectContaining({ name: 'SeaBuildError', code: 'NOT_ASCII' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
