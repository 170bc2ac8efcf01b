import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { defaultIdsPerPod, type KubeletIdMapping, UserNamespaceError } from './user-namespaces';

/** The account whose subordinate IDs are the kubelet's range (upstream kubeletUser). */
export const kubeletUser = 'kubelet';
/** The shadow-utils tool that lists an account's subordinate IDs through NSS (Debian: uidmap). */
export const getSubIdsBinary = 'getsubids';
/** How long one getsubids or getent call may take: NSS may ask a remote LDAP/sssd server. */
export const subIdsTimeoutMs = 30_000;

/** Why a command did not print its answer: the process's exit code or spawn error code, and its stderr. */
export interface SubIdsCommandFailure extends Error {
  /** The exit status (number), or the spawn error code ('ENOENT' when the binary is not on PATH). */
  code?: number | string;
  /** Set when the process was killed (e.g. at the timeout). */
  killed?: boolean;
  /** What the command printed on stderr. */
  stderr?: string;
}

/** Runs `file` with `args` (PATH lookup) and resolves its stdout; rejects with a {@link SubIdsCommandFailure}. */
export type SubIdsCommandRunner = (file: string, args: readonly string[]) => Promise<string>;

/**
 * The host's commands through execFile, killed after {@link subIdsTimeoutMs}; `env.PATH` is where
 * they are looked up (tests point it at fake scripts).
 */
export function subIdsCommandRunner(env: NodeJS.ProcessEnv = process.env): SubIdsCommandRunner {
  return (file, args) =>
    new Promise((resolve, reject) => {
      execFile(
        file,
        [...args],
        { env, timeout: subIdsTimeoutMs, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (error) reject(Object.assign(error, { stderr }));
          else resolve(stdout);
        },
      );
    });
}

/** What {@link readKubeletIdMapping} reads the host through; tests replace both. */
export interface KubeletIdMappingOptions {
  /** KubeletConfiguration.userNamespaces.idsPerPod: the default range starts there. */
  idsPerPod?: number;
  /** Runs getent and getsubids (default {@link subIdsCommandRunner} with this process's PATH). */
  run?: SubIdsCommandRunner;
  /** Reads /etc/passwd when getent is not installed (default: the host's file). */
  readPasswd?: () => Promise<string>;
}

/** Upstream's range without a configured one: every ID from idsPerPod to 2^32. */
export function defaultKubeletIdMapping(idsPerPod = defaultIdsPerPod): KubeletIdMapping {
  return { firstId: idsPerPod, length: 2 ** 32 - idsPerPod };
}

/** Go's %q for the ASCII text getsubids prints (upstream quotes the whole output in its errors). */
const quote = (text: string) => JSON.stringify(text);

/**
 * One `getsubids` answer, `0: kubelet 65536 7208960` (index, user, first ID, count), as upstream
 * parseGetSubIdsOutput reads it: exactly one line of four fields, both numbers unsigned 32-bit.
 */
export function parseGetSubIdsOutput(output: string): KubeletIdMapping {
  const fail = (reason: string) => new UserNamespaceError(getSubIdsBinary, output, reason);
  const lines = output.replace(/^\n+|\n+$/g, '').split('\n');
  if (lines.length !== 1) throw fail(`error parsing line ${quote(output)}: it must contain only one line`);
  const fields = lines[0]!.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 4) throw fail(`invalid line ${quote(output)}`);
  const number = (text: string) => {
    // strconv.ParseUint(text, 10, 32): decimal digits only, at most 2^32 - 1.
    if (!/^\d+$/.test(text))
      throw fail(
        `error parsing line ${quote(output)}: strconv.ParseUint: parsing ${quote(text)}: invalid syntax`,
      );
    const value = Number(text);
    if (value >= 2 ** 32)
      throw fail(
        `error parsing line ${quote(output)}: strconv.ParseUint: parsing ${quote(text)}: value out of range`,
      );
    return value;
  };
  return { firstId: number(fields[2]!), length: number(fields[3]!) };
}

/**
 * Whether the `kubelet` account exists. Upstream asks the C library (NSS, so LDAP/sssd accounts
 * count); node has no getpwnam, so `getent passwd` asks it instead (exit 2: no such account). Without
 * getent, /etc/passwd is read, as a static Go os/user does; an unreadable file stops the kubelet there too.
 */
async function kubeletUserExists(
  run: SubIdsCommandRunner,
  readPasswd: () => Promise<string>,
): Promise<boolean> {
  try {
    await run('getent', ['passwd', kubeletUser]);
    return true;
  } catch (error) {
    const failure = error as SubIdsCommandFailure;
    if (failure.code === 2) return false;
    if (failure.code !== 'ENOENT')
      throw new UserNamespaceError(
        'getent',
        kubeletUser,
        `user: lookup username ${kubeletUser}: ${describe(failure)}`,
      );
  }
  let passwd: string;
  try {
    passwd = await readPasswd();
  } catch (error) {
    throw new UserNamespaceError('/etc/passwd', kubeletUser, `open /etc/passwd: ${(error as Error).message}`);
  }
  return passwd.split('\n').some((line) => line.split(':')[0] === kubeletUser);
}

/** A failed command in a few words: its stderr, else how it ended. */
function describe(failure: SubIdsCommandFailure): string {
  if (failure.killed) return `killed after ${subIdsTimeoutMs / 1000}s`;
  const stderr = failure.stderr?.trim();
  return stderr ? `exit status ${failure.code}: ${stderr}` : failure.message;
}

/**
 * The kubelet's ID range as upstream v1.36 getKubeletMappings finds it: the default range when
 * there is no `kubelet` account; otherwise `getsubids kubelet` and `getsubids -g kubelet` must both
 * succeed and print the same single range. With the account but no getsubids upstream v1.36 stops
 * (its `os.IsNotExist` check misses `exec.ErrNotFound`; its comment's fallback is pending in
 * kubernetes#141345): so does this, naming the package to install. A configured account whose
 * getsubids answer is empty or failing stops it too, as a remote NSS source may just be down.
 * Reasons are getKubeletMappings' own words (upstream's manager prefixes them `kubelet mappings: `).
 */
export async function readKubeletIdMapping(options: KubeletIdMappingOptions = {}): Promise<KubeletIdMapping> {
  const run = options.run ?? subIdsCommandRunner();
  const readPasswd = options.readPasswd ?? (() => readFile('/etc/passwd', 'utf8'));
  if (!(await kubeletUserExists(run, readPasswd))) return defaultKubeletIdMapping(options.idsPerPod);
  const subIds = async (args: string[], what: string, withCause: boolean) => {
    try {
      return await run(getSubIdsBinary, args);
    } catch (error) {
      const failure = error as SubIdsCommandFailure;
      if (failure.code === 'ENOENT')
        throw new UserNamespaceError(
          getSubIdsBinary,
          kubeletUser,
          `exec: "${getSubIdsBinary}": executable file not found in $PATH (install the uidmap package, which provides ${getSubIdsBinary}, or remove the ${kubeletUser} user)`,
        );
      // Upstream names the cause for the UIDs only.
      const cause = withCause ? `: ${describe(failure)}` : '';
      throw new UserNamespaceError(
        getSubIdsBinary,
        kubeletUser,
        `error retrieving additional ${what} for user "${kubeletUser}"${cause}`,
      );
    }
  };
  const uids = await subIds([kubeletUser], 'uids', true);
  const gids = await subIds(['-g', kubeletUser], 'gids', false);
  if (uids !== gids)
    throw new UserNamespaceError(
      getSubIdsBinary,
      kubeletUser,
      `mismatched subuids and subgids for user "${kubeletUser}"`,
    );
  return parseGetSubIdsOutput(uids);
}
