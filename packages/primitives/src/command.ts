import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { CommandNotFoundError } from './command-not-found';
import { CodedError } from './errors';

/** A finished command's output and exit code. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** stdin produced while the command runs: chunks are written as they come, honouring backpressure. */
export type StreamedInput = AsyncIterable<string | Buffer>;

/** Per run: stdin, output handling, timeout, environment and the Debian package to name if missing. */
export interface RunCommandOptions {
  /**
   * Written to stdin, which is then closed. A StreamedInput is pumped chunk by chunk while the
   * command runs (so producing the input and consuming it overlap); if it throws, the command
   * is killed (SIGKILL) before stdin is closed and the run rejects with InputAbortedError.
   */
  input?: string | Buffer | StreamedInput;
  /** Send stdout to /dev/null (a tool that echoes a huge ruleset need not be buffered). */
  discardStdout?: boolean;
  /** Kill the command (SIGKILL) after this long, so a hung tool cannot hang its caller. Default 10 min. */
  timeoutMs?: number;
  /** The command's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /**
   * The Debian package a CommandNotFoundError names when the program is missing. Default: the
   * package of a tool this project knows (`nft` → nftables, `ipset` → ipset...), else none.
   */
  debianPackage?: string;
}

/**
 * How a package starts external tools. Inject one to run them elsewhere (inside a network
 * namespace, behind a prefix, over a fake).
 */
export interface CommandRunner {
  /** Runs `file` with `args` (no shell); CommandNotFoundError when it is not installed. */
  run(file: string, args: readonly string[], options?: RunCommandOptions): Promise<CommandOutput>;
}

/** A command exited non-zero (or by a signal); carries argv, exit code and output so logs say what broke. */
export class CommandFailedError extends CodedError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super(
      'COMMAND_FAILED',
      `${argv.join(' ')} exited with ${exitCode ?? 'a signal'}: ${(stderr.trim() || stdout.trim()).slice(0, 2000)}`,
    );
  }
}

/**
 * The producer of a streamed stdin failed before it finished. The command was killed before
 * the rest of its input reached it (for iptables-restore: before the COMMIT), so it acted on
 * nothing it had not already committed; `cause` is what the producer threw.
 */
export class InputAbortedError extends CodedError {
  constructor(
    readonly command: readonly string[],
    /** How many bytes of input the command had been given when the producer failed. */
    readonly bytesWritten: number,
    override readonly cause: unknown,
  ) {
    super(
      'INPUT_ABORTED',
      `${command[0]}: input producer failed after ${bytesWritten} bytes, command killed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
  }
}

/** Whether a runner's `input` is a StreamedInput (for CommandRunner implementations). */
export function isStreamedInput(input: RunCommandOptions['input']): input is StreamedInput {
  return typeof input === 'object' && input !== null && Symbol.asyncIterator in input;
}

/**
 * Writes `source` into `stdin`, waiting for 'drain' whenever the pipe is full, counting bytes
 * in `progress`. Stops early (and closes the source) if the command exits first, e.g. on a
 * parse error. Rethrows what the source threw, leaving stdin open.
 */
async function pump(
  source: StreamedInput,
  stdin: Writable,
  child: ChildProcess,
  progress: { written: number },
): Promise<void> {
  let exited = false;
  const onExit = () => {
    exited = true;
  };
  child.once('exit', onExit);
  stdin.once('close', onExit);
  try {
    for await (const chunk of source) {
      if (exited) break;
      progress.written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (!stdin.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stdin.off('drain', done);
            stdin.off('close', done);
            child.off('exit', done);
            resolve();
          };
          stdin.on('drain', done);
          stdin.on('close', done);
          child.on('exit', done);
        });
      }
    }
  } finally {
    child.off('exit', onExit);
    stdin.off('close', onExit);
  }
}

/** The error for a spawn failure: a missing program is a CommandNotFoundError, at once. */
function spawnError(err: Error & { code?: string }, file: string, options: RunCommandOptions): Error {
  if (err.code !== 'ENOENT') return err;
  return options.debianPackage === undefined
    ? new CommandNotFoundError(file)
    : new CommandNotFoundError(file, options.debianPackage);
}

/**
 * Runs argv without a shell (arguments are never re-split) and resolves with its output
 * whatever the exit code; rejects only when it cannot start (a missing program is a
 * CommandNotFoundError) or its streamed input failed. `reported` is the command as errors name
 * it (the wrapped tool, not nsenter).
 */
export function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
  reported: readonly string[] = argv,
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    // Our own timer, not spawn()'s `timeout`: Node clears that one only on 'exit', which a
    // program that never started does not emit, so a missing binary kept the caller's process
    // alive until it fired (10 minutes by default).
    // setTimeout would fire at once for a delay past 2^31-1 ms (~24.8 days), so cap it there.
    const timer = setTimeout(
      () => child.kill('SIGKILL'),
      Math.min(options.timeoutMs ?? 600_000, 2 ** 31 - 1),
    );
    const { stdin, stderr } = child as unknown as { stdin: Writable; stderr: NodeJS.ReadableStream };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let aborted: InputAbortedError | undefined;
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(spawnError(err, argv[0]!, options));
    });
    // The tool may exit (on a parse error) before reading all input; its exit status explains.
    stdin.on('error', () => {});
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      if (aborted) {
        reject(aborted);
        return;
      }
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
      });
    });
    const input = options.input;
    if (!isStreamedInput(input)) {
      stdin.end(input ?? '');
      return;
    }
    const progress = { written: 0 };
    pump(input, stdin, child, progress).then(
      () => stdin.end(),
      (cause: unknown) => {
        // Kill before closing stdin: at EOF the tool would act on what it has read so far.
        aborted = new InputAbortedError(reported, progress.written, cause);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        else reject(aborted);
      },
    );
  });
}

/** Runs argv and resolves with its stdout; throws CommandFailedError unless it exits 0. */
export async function runChecked(argv: readonly string[], options: RunCommandOptions = {}): Promise<string> {
  const r = await runCommand(argv, options);
  if (r.exitCode !== 0) throw new CommandFailedError(argv, r.exitCode, r.stderr, r.stdout);
  return r.stdout;
}

/** Runs commands in this process's own namespaces. */
export const localRunner: CommandRunner = {
  run: (file, args, options = {}) => runCommand([file, ...args], options),
};

/**
 * Runs commands inside a network namespace (`nsenter --net=<path>`), e.g. `/run/netns/<name>`
 * from `ip netns add`. Only the network namespace is entered.
 */
export function netnsRunner(netnsPath: string): CommandRunner {
  const path = netnsPath.includes('/') ? netnsPath : `/run/netns/${netnsPath}`;
  return {
    run: async (file, args, options = {}) => {
      const result = await runCommand(['nsenter', `--net=${path}`, '--', file, ...args], options, [
        file,
        ...args,
      ]);
      if (result.exitCode === NSENTER_EXEC_ENOENT && result.stderr.includes(`failed to execute ${file}`)) {
        throw options.debianPackage === undefined
          ? new CommandNotFoundError(file)
          : new CommandNotFoundError(file, options.debianPackage);
      }
      return result;
    },
  };
}

/** util-linux's exit status when nsenter cannot find the program it was to run (as a shell's). */
const NSENTER_EXEC_ENOENT = 127;
