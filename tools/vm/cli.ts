/**
 * Run a command in the IPVS micro-VM: `tsx tools/vm/cli.ts [--timeout ms] [--memory MiB] -- <cmd> [args...]`.
 * Output streams to this terminal; the exit code is the command's.
 */
import { killAllVms, runInVm, VmError } from './vm';

function parse(argv: string[]) {
  const sep = argv.indexOf('--');
  const opts = sep >= 0 ? argv.slice(0, sep) : [];
  const cmd = sep >= 0 ? argv.slice(sep + 1) : argv;
  let timeoutMs: number | undefined;
  let memoryMb: number | undefined;
  for (let i = 0; i < opts.length; i++) {
    if (opts[i] === '--timeout') timeoutMs = Number(opts[++i]);
    else if (opts[i] === '--memory') memoryMb = Number(opts[++i]);
    else throw new Error(`unknown option ${opts[i]}`);
  }
  return { cmd, timeoutMs, memoryMb };
}

const { cmd, timeoutMs, memoryMb } = parse(process.argv.slice(2));
const [command, ...args] = cmd;
if (!command) {
  process.stderr.write('usage: tsx tools/vm/cli.ts [--timeout ms] [--memory MiB] -- <cmd> [args...]\n');
  process.exit(2);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllVms();
    process.exit(130);
  });
}
try {
  const result = await runInVm({
    command,
    args,
    timeoutMs,
    memoryMb,
    onStdout: (c) => process.stdout.write(c),
    onStderr: (c) => process.stderr.write(c),
  });
  process.exitCode = result.exitCode;
} catch (err) {
  process.stderr.write(`${err instanceof VmError ? `${err.code}: ` : ''}${(err as Error).message}\n`);
  process.exitCode = 125;
}
