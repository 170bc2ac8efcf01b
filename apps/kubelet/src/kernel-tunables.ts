import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { goPathError } from '@nodeagent/primitives';
import { goAggregateText, goAtoi } from '@nodeagent/primitives/go-text';

/**
 * The kernel settings upstream's container manager wants at start (setupKernelTunables, v1.36),
 * named as upstream names them: paths under /proc/sys, which is also how its messages print them.
 * Upstream ranges over a Go map (a random order each start); this kubelet keeps this order.
 */
export const desiredKernelTunables: readonly (readonly [flag: string, value: number])[] = [
  // Allocations never refused by the kernel's heuristic: memory limits are the pods' cgroups' job.
  ['vm/overcommit_memory', 1],
  // Out of memory kills a process (the pods' OOM scores decide which) rather than panicking.
  ['vm/panic_on_oom', 0],
  // A panicked node reboots after 10 s instead of hanging.
  ['kernel/panic', 10],
  // An oops panics (and so reboots) rather than leaving a node in an unknown state.
  ['kernel/panic_on_oops', 1],
  // Runtimes make a session keyring per container: root may own a million keys of 25 bytes each.
  ['kernel/keys/root_maxkeys', 1_000_000],
  ['kernel/keys/root_maxbytes', 25_000_000],
];

/** Reads and writes integer sysctls by their /proc/sys-relative path (`vm/overcommit_memory`). */
export interface Sysctls {
  /** The value, or a rejection carrying upstream's message (a missing file, a non-integer). */
  get(flag: string): Promise<number>;
  /** Writes `value`; a rejection carries upstream's message (`open …: read-only file system`). */
  set(flag: string, value: number): Promise<void>;
}

/** Go's strconv.Atoi on the text upstream trims of spaces and newlines, with its error text. */
function atoi(data: string): number {
  const parsed = goAtoi(data.replace(/^[ \n]+|[ \n]+$/g, ''));
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.value;
}

/**
 * The sysctls as files under `root` (upstream's procSysctl, /proc/sys). Tests and the test
 * harnesses give a directory of their own, so no run touches the host's kernel settings.
 */
export function procSysctls(root = '/proc/sys'): Sysctls {
  return {
    async get(flag) {
      const path = join(root, flag);
      return atoi(
        await readFile(path, 'utf8').catch((error: unknown) => Promise.reject(new Error(goPathError(error)))),
      );
    },
    async set(flag, value) {
      const path = join(root, flag);
      // As Go's os.WriteFile: created if missing (with 0640), truncated, the decimal text alone.
      await writeFile(path, String(value), { mode: 0o640 }).catch((error: unknown) =>
        Promise.reject(new Error(goPathError(error))),
      );
    },
  };
}

/**
 * Whether this process runs in a user namespace other than the initial one (moby's
 * userns.RunningInUserNS): the initial namespace's /proc/self/uid_map is `0 0 4294967295`; an
 * empty map is a namespace being set up; a missing or unparsable one counts as the host's.
 */
export function runningInUserNamespace(uidMap: string | undefined): boolean {
  if (uidMap === undefined) return false;
  const line = uidMap.split('\n')[0] ?? '';
  if (line === '') return true;
  const fields = /^\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)/.exec(line);
  if (!fields) return false;
  return !(fields[1] === '0' && fields[2] === '0' && fields[3] === '4294967295');
}

/** What setupKernelTunables reads besides the sysctls. */
export interface KernelTunablesOptions {
  /** protectKernelDefaults: check only, and refuse to start on any difference. */
  protectKernelDefaults: boolean;
  /** The KubeletInUserNamespace feature gate: a failed write in a user namespace is only logged. */
  kubeletInUserNamespace: boolean;
  /** Whether the kubelet runs in a user namespace (asked only after a write failed). */
  inUserNamespace: () => Promise<boolean>;
  /** error for the userns hint; `debug` (pino's, -v=2 and up) for upstream's V(2) lines. */
  logger: { error(obj: object, msg?: string): void; debug?(obj: object, msg?: string): void };
}

/**
 * Upstream's setupKernelTunables at the container manager's start: each desired sysctl read; one
 * that differs is written (protectKernelDefaults false, "modify") or named as an error (true,
 * "error"). An unreadable sysctl is an error either way, and so is a failed write (logged and
 * skipped only in a user namespace with the KubeletInUserNamespace gate). Returns upstream's
 * aggregated error text, or undefined when nothing failed.
 */
export async function setupKernelTunables(
  sysctls: Sysctls,
  options: KernelTunablesOptions,
): Promise<string | undefined> {
  const errors: string[] = [];
  for (const [flag, expectedValue] of desiredKernelTunables) {
    const actualValue = await sysctls.get(flag).catch((error: Error) => error);
    if (actualValue instanceof Error) errors.push(actualValue.message);
    else if (actualValue === expectedValue) continue;
    else if (options.protectKernelDefaults)
      errors.push(
        `invalid kernel flag: ${flag}, expected value: ${expectedValue}, actual value: ${actualValue}`,
      );
    else {
      options.logger.debug?.({ flag, expectedValue, actualValue }, 'Updating kernel flag');
      const failure = await sysctls.set(flag, expectedValue).then(
        () => undefined,
        (error: Error) => error,
      );
      if (failure && !(await writeFailureIgnored(failure, flag, options))) errors.push(failure.message);
    }
  }
  return errors.length > 0 ? goAggregateText(errors) : undefined;
}

/** Upstream's handling of a failed write: ignored (V(2)) only in a user namespace with the gate on. */
async function writeFailureIgnored(
  failure: Error,
  flag: string,
  options: KernelTunablesOptions,
): Promise<boolean> {
  if (!(await options.inUserNamespace())) return false;
  if (options.kubeletInUserNamespace) {
    options.logger.debug?.(
      { flag, err: failure.message },
      'Updating kernel flag failed (running in UserNS, ignoring)',
    );
    return true;
  }
  options.logger.error(
    { err: failure.message, flag },
    'Updating kernel flag failed (Hint: enable KubeletInUserNamespace feature flag to ignore the error)',
  );
  return false;
}

/** /proc/self/uid_map's text, or undefined where the kernel has no user namespaces. */
export async function readSelfUidMap(): Promise<string | undefined> {
  return readFile('/proc/self/uid_map', 'utf8').catch(() => undefined);
}

/**
 * The directory read as /proc/sys: NODEAGENT_KUBELET_SYSCTL_ROOT when set. Not an upstream
 * setting: the test harnesses and the code-cache training start the real binary as root on shared
 * hosts, and point it at a directory of their own so those runs never change the host's settings.
 */
export function kubeletSysctlRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.NODEAGENT_KUBELET_SYSCTL_ROOT || '/proc/sys';
}
