import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { ChildExitedError } from './errors';

export interface ChildSpec {
  /** Short name for messages ("kubelet", "kube-proxy"). */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** stdout and stderr go here. */
  logFile: string;
  /** Run inside this network namespace (nsenter --net, so the host's netfilter is never touched). */
  netnsPath?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunningChild {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or null on a signal) when the process ends. */
  exited: Promise<number | null>;
  /** Rejects with ChildExitedError if the process ends before stop() is called. */
  failure: Promise<never>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** util-linux setpriv, where present (it is on Debian); without it children do not get a pdeathsig. */
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Spawns a long-running agent with its output in a log file, optionally inside a netns. */
export function startChild(spec: ChildSpec): RunningChild {
  const log = openSync(spec.logFile, 'a');
  // setpriv --pdeathsig: if the demo itself dies (even SIGKILL), the kernel sends the agent
  // SIGTERM, so no kubelet or kube-proxy outlives it. nsenter execs, so the setting carries over.
  const inner = spec.netnsPath
    ? ['nsenter', `--net=${spec.netnsPath}`, '--', spec.command, ...spec.args]
    : [spec.command, ...spec.args];
  const argv = setpriv ? [setpriv, '--pdeathsig', 'TERM', '--', ...inner] : inner;
  const [command, args] = [argv[0] as string, argv.slice(1)];
  let child: ChildProcess;
  try {
    // Own process group: a terminal's Ctrl-C reaches only the demo, which then stops the agents in
    // order (kube-proxy and kubelet before containerd) instead of all dying at once.
    child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', log, log],
      detached: true,
    });
  } finally {
    closeSync(log);
  }
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  const failure = exited.then((code) => {
    if (stopping) return new Promise<never>(() => undefined);
    throw new ChildExitedError(spec.name, code, spec.logFile);
  });
  // Callers race on `failure`; an unobserved rejection must not crash the demo.
  failure.catch(() => undefined);
  return {
    name: spec.name,
    pid: child.pid ?? -1,
    logFile: spec.logFile,
    exited,
    failure,
    async stop(graceMs = 5000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
