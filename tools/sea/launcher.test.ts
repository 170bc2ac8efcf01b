import { compileFunction, Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { launcher } from './build.mjs';
import { seaTargets } from './targets.mjs';

// The executable's main script when its app is an asset: it answers --version before it reads
// and compiles the app's bundle, and never executes itself again. Run here with node:sea,
// node:vm and process stood in for.
const kubelet = seaTargets().find((t) => t.name === 'nodeagent-kubelet');
if (!kubelet) throw new Error('no nodeagent-kubelet target');

class Execve extends Error {}
let runs = 0;

function runLauncher(
  argv: string[],
  env: Record<string, string | undefined>,
  options = { codeCache: false },
) {
  const steps: string[] = [];
  const fakeProcess = {
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
          return `require("app-module"); module.exports = __filename; // run ${++runs}`;
        },
        getRawAsset: (key: string) => {
          steps.push(`getRawAsset ${key}`);
          return new Uint8Array([1, 2, 3, 4]).buffer;
        },
      };
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
});
