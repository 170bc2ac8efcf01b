import { spawn } from 'node:child_process';

export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export interface RunCommandOptions {
  /** Written to stdin, which is then closed. */
  input?: string | Buffer;
  /** Send stdout to /dev/null (a tool that echoes a huge ruleset need not be buffered). */
  discardStdout?: boolean;
  timeoutMs?: number;
}

/**
 * How this package starts iptables/nft. Inject one to run them elsewhere (inside a network
 * namespace, over a fake) — the appliers never touch the kernel except through it.
 */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunCommandOptions): Promise<CommandOutput>;
}

function spawnCollect(
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 600_000,
      killSignal: 'SIGKILL',
    });
    const { stdin, stderr } = child as unknown as {
      stdin: NodeJS.WritableStream;
      stderr: NodeJS.ReadableStream;
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    // The tool may exit (on a parse error) before reading all input; its exit status explains.
    stdin.on('error', () => {});
    child.on('close', (exitCode) =>
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
      }),
    );
    stdin.end(options.input ?? '');
  });
}

/** Runs commands in this process's own namespaces. */
export const localRunner: CommandRunner = {
  run: (file, args, options = {}) => spawnCollect(file, args, options),
};

/**
 * Runs commands inside a network namespace (`nsenter --net=<path>`), e.g. `/run/netns/<name>`
 * from `ip netns add`. Only the network namespace is entered.
 */
export function netnsRunner(netnsPath: string): CommandRunner {
  const path = netnsPath.includes('/') ? netnsPath : `/run/netns/${netnsPath}`;
  return {
    run: (file, args, options = {}) =>
      spawnCollect('nsenter', [`--net=${path}`, '--', file, ...args], options),
  };
}
