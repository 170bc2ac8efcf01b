// Vitest globalSetup: snapshot the host's namespaces, links and netns/overlay mounts before the
// run and fail the run, naming each leftover, if tests left anything behind.
// NODEAGENT_LEAK_CHECK=warn only prints the leaks (useful while others share the machine);
// NODEAGENT_LEAK_CHECK=off disables the check.
import { fileURLToPath } from 'node:url';
import type { HostSnapshot, LeakCheckOptions } from '@nodeagent/testing/netns';

type Testing = typeof import('@nodeagent/testing/netns');

// A root vitest config may not resolve workspace packages to their sources (the
// `@nodeagent/source` condition) and CI does not build before testing: then load the helpers
// from packages/testing's sources directly.
async function loadTesting(): Promise<Testing> {
  try {
    return await import('@nodeagent/testing/netns');
  } catch {
    const sources = fileURLToPath(new URL('../../packages/testing/src/netns/index.ts', import.meta.url));
    return (await import(/* @vite-ignore */ sources)) as Testing;
  }
}

export interface LeakCheckSetupOptions extends LeakCheckOptions {
  mode?: 'error' | 'warn' | 'off';
  /** Only consider matching items (namespace names, link names, "<fstype> <mountpoint>"). */
  include?: (item: string) => boolean;
  /**
   * Marks the run failed. vitest reports an error thrown by a globalSetup teardown but still
   * exits 0, so the default sets the process's exit code as well.
   */
  failRun?: () => void;
}

const failProcess = () => {
  process.exitCode = 1;
};

/** Build a globalSetup-shaped function: snapshot now, return a teardown that checks. */
export function createLeakCheck(options: LeakCheckSetupOptions = {}): () => Promise<() => Promise<void>> {
  const include = options.include;
  const snapshot = async (): Promise<HostSnapshot> => {
    const taken = await (options.snapshot ?? (await loadTesting()).takeHostSnapshot)();
    if (!include) return taken;
    return {
      netns: taken.netns.filter(include),
      links: taken.links.filter(include),
      mounts: taken.mounts.filter(include),
    };
  };
  return async function setup() {
    const mode =
      options.mode ?? (process.env.NODEAGENT_LEAK_CHECK as LeakCheckSetupOptions['mode']) ?? 'error';
    if (mode === 'off') return async () => {};
    const { assertNoHostLeaks, HostLeakError } = await loadTesting();
    const before = await snapshot();
    return async function teardown() {
      try {
        await assertNoHostLeaks(before, { ...options, snapshot });
      } catch (error) {
        if (mode === 'warn' && error instanceof HostLeakError) {
          console.warn(`leak-check: ${error.message}`);
          return;
        }
        (options.failRun ?? failProcess)();
        throw error;
      }
    };
  };
}

/** The globalSetup entry: `test.globalSetup: ['tools/netns/leak-check.ts']`. */
export default createLeakCheck();
