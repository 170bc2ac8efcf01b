import { readFile } from 'node:fs/promises';
import { systemReason } from '@nodeagent/primitives';
import type { KubeletLogger } from '../kubelet-logger';
import { loadLibc } from '../libc';

// maxOpenFiles (--max-open-files): upstream's RunKubelet, once the kubelet is built and before it
// starts, calls rlimit.SetNumFiles(maxOpenFiles), i.e. setrlimit(RLIMIT_NOFILE) with soft = hard =
// the value, and on failure logs klog.ErrorS(err, "Failed to set rlimit on max file handles") and
// goes on. Node has no setrlimit, so the call goes through koffi (the FFI @nodeagent/netfilter
// already uses; the single executable embeds its addon, tools/sea/native-addons.mjs). Loading
// koffi costs start-up CPU (issue #51), so /proc/self/limits is read first: when soft and hard
// already equal the value (a unit whose LimitNOFILE matches), the call would change nothing and
// is skipped.

/** Linux's RLIMIT_NOFILE (asm-generic/resource.h). */
const RLIMIT_NOFILE = 7;

/** upstream's klog message when setrlimit fails. */
export const setOpenFilesLimitFailedMessage = 'Failed to set rlimit on max file handles';

/** A process's RLIMIT_NOFILE: `undefined` stands for unlimited. */
export interface OpenFilesLimit {
  /** The soft limit (what open() is held to). */
  soft: number | undefined;
  /** The hard limit (the ceiling an unprivileged process may raise its soft limit to). */
  hard: number | undefined;
}

/** The "Max open files" row of /proc/<pid>/limits; undefined when the text has none. */
export function parseOpenFilesLimit(limitsText: string): OpenFilesLimit | undefined {
  const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!row) return undefined;
  const value = (text: string) => (text === 'unlimited' ? undefined : Number(text));
  return { soft: value(row[1] as string), hard: value(row[2] as string) };
}

/** setrlimit(RLIMIT_NOFILE, {cur: value, max: value}); rejects with Go's text for the errno. */
export type SetOpenFilesLimit = (value: number) => Promise<void>;

/** What applyMaxOpenFiles reads and calls; tests replace them. */
export interface OpenFilesLimitDeps {
  /** The text of /proc/self/limits (default: read it). */
  readLimits?: () => Promise<string>;
  /** The setrlimit call (default: libc's, through koffi, loaded on first use). */
  setLimit?: SetOpenFilesLimit;
}

/**
 * Sets this process's soft and hard open-files limits to `maxOpenFiles`, as upstream's
 * RunKubelet does; a failure is logged with upstream's message and the start goes on.
 * Returns whether setrlimit was called (false: the limits already matched).
 */
export async function applyMaxOpenFiles(
  maxOpenFiles: number,
  logger: Pick<KubeletLogger, 'error'>,
  deps: OpenFilesLimitDeps = {},
): Promise<boolean> {
  const current = parseOpenFilesLimit(
    await (deps.readLimits ?? (() => readFile('/proc/self/limits', 'utf8')))().catch(() => ''),
  );
  if (current?.soft === maxOpenFiles && current.hard === maxOpenFiles) return false;
  try {
    await (deps.setLimit ?? libcSetOpenFilesLimit)(maxOpenFiles);
  } catch (error) {
    logger.error({ err: (error as Error).message }, setOpenFilesLimitFailedMessage);
  }
  return true;
}

let setrlimit: Promise<(value: number) => void> | undefined;

/** libc's setrlimit, looked up the first time a limit must change (koffi: ../libc.ts). */
function loadSetrlimit(): Promise<(value: number) => void> {
  setrlimit ??= loadLibc().then(({ koffi, libc }) => {
    const call = libc.func('int setrlimit(int, const void *)') as (resource: number, limit: Buffer) => number;
    return (value: number) => {
      // struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; }: two 64-bit words on 64-bit Linux.
      const limit = Buffer.alloc(16);
      limit.writeBigUInt64LE(BigInt(value), 0);
      limit.writeBigUInt64LE(BigInt(value), 8);
      if (call(RLIMIT_NOFILE, limit) === 0) return;
      // Go's syscall.Errno text (EPERM: "operation not permitted"); Node's errno map is negative.
      const errno = koffi.errno();
      throw new Error(errno > 0 ? systemReason({ errno: -errno }) : `errno ${errno}`);
    };
  });
  return setrlimit;
}

/** libc's setrlimit(RLIMIT_NOFILE) with soft = hard = `value`; rejects with Go's errno text. */
export const libcSetOpenFilesLimit: SetOpenFilesLimit = async (value) => {
  let call: (value: number) => void;
  try {
    call = await loadSetrlimit();
  } catch (error) {
    // No koffi (not installed, or no prebuilt addon for this platform): as upstream off Linux.
    setrlimit = undefined;
    throw new Error(`SetRLimit unsupported in this platform: ${(error as Error).message}`);
  }
  call(value);
};
