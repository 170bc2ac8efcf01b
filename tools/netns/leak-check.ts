// Vitest globalSetup: snapshot the host's namespaces, links, netns/overlay mounts and mounts in
// the temp directory, containers' cgroups and loop devices over temp files before the run and
// fail the run, naming each leftover, if tests left anything behind.
// NODEAGENT_LEAK_CHECK=warn only prints the leaks (useful while others share the machine);
// NODEAGENT_LEAK_CHECK=off disables the check.
import type { HostSnapshot, LeakCheckOptions } from '@nodeagent/testing/netns';

type Testing = typeof import('@nodeagent/testing/netns');

// Loaded when the setup runs (not at import), so the module's pure helpers stay importable alone.
// The root vitest config resolves it to packages/testing's sources: no build is needed.
function loadTesting(): Promise<Testing> {
  return import('@nodeagent/testing/netns');
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
      cgroups: taken.cgroups.filter(include),
      loopDevices: taken.loopDevices.filter(include),
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
