/** Base class: every demo failure has a stable `code` and names what it is about. */
export class DemoError extends Error {
  constructor(
    readonly code: string,
    readonly field: string,
    readonly value: unknown,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = new.target.name;
  }
}

/** A command-line argument the demo does not accept. */
export class InvalidArgumentError extends DemoError {
  constructor(flag: string, value: unknown, reason: string) {
    super('INVALID_ARGUMENT', flag, value, `${JSON.stringify(value)} ${reason}`);
  }
}

/** Another demo is running (the lock file names its PID). */
export class AlreadyRunningError extends DemoError {
  constructor(lockPath: string, pid: number) {
    super(
      'ALREADY_RUNNING',
      lockPath,
      pid,
      `another node-in-a-box demo is running (pid ${pid}); stop it first`,
    );
  }
}

/** Something the real runtime needs is missing (root, binaries). */
export class PrerequisiteError extends DemoError {
  constructor(readonly missing: string[]) {
    super('MISSING_PREREQUISITES', 'prerequisites', missing, `missing: ${missing.join('; ')}`);
  }
}

/** A step did not finish in time; `value` is what was last seen. */
export class StepTimeoutError extends DemoError {
  constructor(step: string, lastSeen: unknown) {
    super('STEP_TIMEOUT', step, lastSeen, `timed out (last seen: ${JSON.stringify(lastSeen)})`);
  }
}

/** A child process (kubelet, kube-proxy) exited while the demo needed it. */
export class ChildExitedError extends DemoError {
  constructor(
    name: string,
    exitCode: number | null,
    readonly logFile: string,
  ) {
    super('CHILD_EXITED', name, exitCode, `exited with ${exitCode}; see ${logFile}`);
  }
}
