#!/usr/bin/env node
// Runs a command with CPU load beside it, the way a laptop or a shared CI runner is busy with
// other work: `node tools/ci/with-cpu-load.mjs [--burners N] -- <command> [args...]`.
//
// It starts N (default 2, one per core here) processes that spin at normal priority, runs the
// command, then stops them, whatever the command's outcome or a signal; the burners also end by
// themselves within a second once this process is gone, so none can outlive the run. Exits with
// the command's exit code and prints how long the command took and the load it saw.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';

/** A spinner that checks about once a second that its parent still exists. */
const BURNER = `
const parent = Number(process.argv[1]);
let next = Date.now() + 1000;
for (;;) {
  if (Date.now() >= next) {
    next = Date.now() + 1000;
    try { process.kill(parent, 0); } catch { process.exit(0); }
  }
}`;

function parse(argv) {
  const sep = argv.indexOf('--');
  if (sep < 0 || sep === argv.length - 1) return undefined;
  const options = argv.slice(0, sep);
  let burners = 2;
  for (let i = 0; i < options.length; i++) {
    if (options[i] === '--burners' && /^\d+$/.test(options[i + 1] ?? '')) burners = Number(options[++i]);
    else return undefined;
  }
  return { burners, command: argv[sep + 1], args: argv.slice(sep + 2) };
}

const parsed = parse(process.argv.slice(2));
if (!parsed) {
  process.stderr.write('usage: with-cpu-load.mjs [--burners N] -- <command> [args...]\n');
  process.exit(2);
}

const burners = Array.from({ length: parsed.burners }, () =>
  spawn(process.execPath, ['-e', BURNER, String(process.pid)], { stdio: 'ignore' }),
);
const stopBurners = () => {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
};
process.on('exit', stopBurners);

const started = Date.now();
const loads = [];
const sampler = setInterval(() => loads.push(loadavg()[0]), 10_000);
process.stderr.write(
  `with-cpu-load: ${parsed.burners} busy processes beside: ${[parsed.command, ...parsed.args].join(' ')}\n`,
);
const child = spawn(parsed.command, parsed.args, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    child.kill(signal);
    stopBurners();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}
child.on('exit', (code, signal) => {
  clearInterval(sampler);
  stopBurners();
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const meanLoad = loads.length ? (loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1) : 'n/a';
  process.stderr.write(
    `with-cpu-load: ${signal ?? `exit ${code}`} after ${seconds} s under load (1-min load average, mean ${meanLoad})\n`,
  );
  process.exit(code ?? 1);
});
