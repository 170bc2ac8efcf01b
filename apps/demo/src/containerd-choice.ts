/**
 * Which containerd the demo's nodes run. A current node runs containerd 2.x, so the demo prefers
 * Debian unstable's 2.1 (unpacked, not installed, by tools/install-deps.mjs) when it is there with
 * its runc 1.3, and falls back to Debian stable's 1.6 (installed) otherwise. NODEAGENT_CONTAINERD
 * forces either: the same variable the real-containerd test tier is picked with (tools/containerd).
 */
import { InvalidArgumentError } from './errors';

/** The variable tools/containerd reads (CONTAINERD_VERSION_ENV there). */
export const CONTAINERD_ENV = 'NODEAGENT_CONTAINERD';

export type DemoContainerdVersion = '1.6' | '2.1';
const versions: readonly DemoContainerdVersion[] = ['1.6', '2.1'];

export interface ContainerdChoice {
  version: DemoContainerdVersion;
  /** `forced`: NODEAGENT_CONTAINERD named it; else whether 2.1 was found unpacked. */
  why: 'forced' | 'present' | 'absent';
}

/**
 * NODEAGENT_CONTAINERD when set (an empty value counts as unset, as in tools/containerd), else
 * 2.1 when `available21()` (tools/containerd's containerd21Available), else 1.6. A forced 2.1 that
 * is not unpacked is left to tools/containerd, whose error names the command that unpacks it.
 */
export function chooseContainerd(env: NodeJS.ProcessEnv, available21: () => boolean): ContainerdChoice {
  const value = env[CONTAINERD_ENV];
  if (value === undefined || value === '')
    return available21() ? { version: '2.1', why: 'present' } : { version: '1.6', why: 'absent' };
  if ((versions as readonly string[]).includes(value))
    return { version: value as DemoContainerdVersion, why: 'forced' };
  throw new InvalidArgumentError(
    CONTAINERD_ENV,
    value,
    `is not a containerd the demo runs; use ${versions.join(' or ')}`,
  );
}

const described: Record<DemoContainerdVersion, string> = {
  '1.6': "containerd 1.6 (Debian stable's, installed)",
  '2.1': "containerd 2.1 (Debian unstable's, unpacked by tools/install-deps.mjs)",
};

/** The one line the demo prints: the runtime, its runc, why this one, and how to get the other. */
export function containerdLine(choice: ContainerdChoice, runc: string | undefined): string {
  const runtime = `Runtime: ${described[choice.version]}${runc ? ` with runc ${runc}` : ''}`;
  switch (choice.why) {
    case 'forced':
      return `${runtime}, as ${CONTAINERD_ENV}=${choice.version} asks`;
    case 'present':
      return `${runtime}, found unpacked; ${CONTAINERD_ENV}=1.6 runs 1.6 instead`;
    case 'absent':
      return `${runtime}; 2.1 runs once \`node tools/install-deps.mjs\` (as root) has unpacked it and runc 1.3`;
  }
}
