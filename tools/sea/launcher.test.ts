import { compileFunction } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { launcher } from './build.mjs';
import { seaTargets } from './targets.mjs';

// The executable's main script when its app is an asset: it must re-exec for MALLOC_ARENA_MAX
// (and answer --version) before it reads and compiles the app's bundle, whose compile was
// otherwise paid twice per start. Run here with node:sea, node:vm and process stood in for.
const kubelet = seaTargets().find((t) => t.name === 'nodeagent-kubelet');
if (!kubelet) throw new Error('no nodeagent-kubelet target');

class Execve extends Error {}

function runLauncher(argv: string[], env: Record<string, string | undefined>) {
  const steps: string[] = [];
  const fakeProcess = {
    platform: 'linux',
    argv: ['/bin/nodeagent-kubelet', '/bin/nodeagent-kubelet', ...argv],
    argv0: 'nodeagent-kubelet',
    execPath: '/bin/nodeagent-kubelet',
    env,
    stdout: { write: (text: string) => steps.push(`stdout ${text.trim()}`) },
    exit: () => {
      steps.push('exit');
      throw new Execve();
    },
    execve: (_path: string, _args: string[], e: Record<string, string>) => {
      steps.push(`execve MALLOC_ARENA_MAX=${e.MALLOC_ARENA_MAX}`);
      throw new Execve();
    },
  };
  const fakeRequire = (id: string) => {
    if (id === 'node:vm')
      return { compileFunction, constants: { USE_MAIN_CONTEXT_DEFAULT_LOADER: undefined } };
    if (id === 'node:sea')
      return {
        getAsset: (key: string) => {
          steps.push(`getAsset ${key}`);
          return 'require("app-module"); module.exports = __filename;';
        },
      };
    steps.push(`app require ${id}`);
    return {};
  };
  const module = { exports: {} as unknown };
  const script = compileFunction(launcher(kubelet as never, '0.1.0', '/build/nodeagent-kubelet.cjs'), [
    'exports',
    'require',
    'module',
    '__filename',
    '__dirname',
    'process',
  ]);
  try {
    script(module.exports, fakeRequire, module, '/bin/nodeagent-kubelet', '/bin', fakeProcess);
  } catch (error) {
    if (!(error instanceof Execve)) throw error;
  }
  return { steps, exported: module.exports };
}

describe('the single executable launcher', () => {
  it('re-execs with MALLOC_ARENA_MAX before it reads the app', () => {
    expect(runLauncher(['--help'], {}).steps).toEqual(['execve MALLOC_ARENA_MAX=1']);
  });

  it('answers --version without the app and without a re-exec', () => {
    expect(runLauncher(['--version'], {}).steps).toEqual(['stdout Kubernetes v1.36.3', 'exit']);
  });

  it('runs the app from its asset with the CommonJS arguments once the variable is set', () => {
    const { steps, exported } = runLauncher(['--help'], { MALLOC_ARENA_MAX: '1' });
    expect(steps).toEqual(['getAsset nodeagent-app.cjs', 'app require app-module']);
    expect(exported).toBe('/bin/nodeagent-kubelet');
  });
});
