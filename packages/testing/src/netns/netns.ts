import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { CommandFailedError } from '@nodeagent/primitives';
import { assertNetnsName, uniqueNetnsName } from './names';
import { type CommandResult, type RunOptions, runCommand } from './run-command';

/** Where `ip netns add` bind-mounts namespace handles. */
export const NETNS_RUN_DIR = '/run/netns';

/** A named network namespace; every method runs inside it, never in the host namespace. */
export interface Netns {
  readonly name: string;
  /** The bind-mounted handle, usable with `nsenter --net=<path>` or setns(2). */
  readonly path: string;
  /** Run a program inside the namespace and collect its output (throws on non-zero exit). */
  exec(file: string, args?: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Start a long-running program (a server) inside; it is killed by delete(). */
  spawn(file: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Kill spawned programs and delete the namespace; safe to call twice. */
  delete(): Promise<void>;
}

/** How a namespace is named, owned and set up. */
export interface CreateNetnsOptions {
  /** Word(s) for the generated name `na-<purpose>-<pid>-<random>` (default "test"). */
  purpose?: string;
  /** The process whose exit makes it stale for cleanup-stale (default: this process). */
  ownerPid?: number;
  /** An exact name instead of a generated one (must not exist yet). */
  name?: string;
  /** Bring `lo` up so 127.0.0.1 works inside (default true). */
  loopbackUp?: boolean;
}

class NamedNetns implements Netns {
  readonly path: string;
  private readonly children = new Set<ChildProcess>();

  constructor(readonly name: string) {
    assertNetnsName(name);
    this.path = `${NETNS_RUN_DIR}/${name}`;
  }

  exec(file: string, args: readonly string[] = [], options?: RunOptions): Promise<CommandResult> {
    // nsenter switches only the network namespace: cheaper than `ip netns exec`, which also
    // unshares the mount namespace and remounts /sys for every call.
    return runCommand('nsenter', [`--net=${this.path}`, '--', file, ...args], options);
  }

  spawn(file: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('nsenter', [`--net=${this.path}`, '--', file, ...args], {
      stdio: 'pipe',
      ...options,
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  async delete(): Promise<void> {
    await Promise.all([...this.children].map((child) => killAndWait(child)));
    await deleteNetns(this.name);
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Create a uniquely named namespace (with `lo` up unless told otherwise). */
export async function createNetns(options: CreateNetnsOptions = {}): Promise<Netns> {
  const name = options.name ?? uniqueNetnsName(options.purpose, { ownerPid: options.ownerPid });
  const netns = new NamedNetns(name);
  await runCommand('ip', ['netns', 'add', name]);
  try {
    if (options.loopbackUp ?? true) await netns.exec('ip', ['link', 'set', 'lo', 'up']);
  } catch (error) {
    await deleteNetns(name);
    throw error;
  }
  return netns;
}

/** A handle on an existing namespace (for example one made by the CLI). */
export function openNetns(name: string): Netns {
  return new NamedNetns(name);
}

/** Delete a namespace by name; a namespace that is already gone is not an error. */
export async function deleteNetns(name: string): Promise<void> {
  assertNetnsName(name);
  const result = await runCommand('ip', ['netns', 'delete', name], { allowFailure: true });
  if (result.exitCode !== 0 && (await netnsExists(name))) {
    throw new CommandFailedError(['ip', 'netns', 'delete', name], result.exitCode, result.stderr);
  }
}

/** Names of all namespaces under /run/netns (ours and anyone else's). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['netns', 'list']);
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0);
}

/** Whether `ip netns` lists a namespace of this name. */
export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns()).includes(name);
}
