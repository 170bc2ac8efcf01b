/** Base class: every micro-VM failure carries a stable `code` for callers to branch on. */
export class VmError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** No usable kernel, qemu or virtiofsd on this machine. */
export class VmPrerequisiteError extends VmError {
  constructor(
    readonly what: string,
    readonly value: string,
    reason: string,
  ) {
    super('VM_PREREQUISITE', `${what} ${JSON.stringify(value)}: ${reason}`);
  }
}

/** The VM stopped without the command reporting an exit code (boot failure, kernel panic, crash). */
export class VmBootError extends VmError {
  constructor(
    reason: string,
    readonly consoleTail: string,
  ) {
    super('VM_BOOT', `${reason}\n--- VM console (tail) ---\n${consoleTail}`);
  }
}

/**
 * The boot did not finish within `bootTimeoutMs`, or the command within `timeoutMs` times the
 * run's speed factor; the VM was killed. Partial output is attached.
 */
export class VmTimeoutError extends VmError {
  constructor(
    readonly phase: 'boot' | 'command',
    /** The limit that ran out (for the command: already scaled by speedFactor). */
    readonly timeoutMs: number,
    readonly speedFactor: number,
    readonly stdout: string,
    readonly stderr: string,
    readonly consoleTail: string,
  ) {
    super(
      'VM_TIMEOUT',
      phase === 'boot'
        ? `the VM did not boot within ${timeoutMs} ms; VM killed`
        : `command did not finish within ${timeoutMs} ms (speed factor ${speedFactor}); VM killed${tails(stdout, stderr, consoleTail)}`,
    );
  }
}

/**
 * The ends of what the guest printed, for the message: a timed-out run is often a CI log's only
 * record of where the guest stopped (the error's fields do not reach vitest's report).
 */
function tails(stdout: string, stderr: string, consoleTail: string): string {
  const end = (text: string, chars: number) => text.trim().slice(-chars).replace(/\n/g, ' | ');
  return [
    stdout.trim() && `\nstdout ends: ${end(stdout, 600)}`,
    stderr.trim() && `\nstderr ends: ${end(stderr, 600)}`,
    consoleTail.trim() && `\nconsole ends: ${end(consoleTail, 1200)}`,
  ].join('');
}
