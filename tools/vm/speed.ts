/**
 * How fast this machine runs the micro-VM right now, from the run's own boot. TCG emulation
 * slows down in proportion to the CPU time the host can give it, and the boot (qemu start until
 * the guest's run.sh is running) is the same work every time, so its duration against an idle
 * machine's measures the factor by which everything the guest does will be slower. Limits meant
 * for an idle machine are scaled by it instead of racing a fixed wall clock.
 */

/**
 * qemu start → run.sh running on an idle 2-core machine under TCG is about 2.6–3.0 s (the guest
 * itself reports 2.4–2.7 s of uptime then); the reference sits below that so the factor errs
 * towards longer limits: a limit that is too long only matters for a run that fails anyway.
 */
export const REFERENCE_BOOT_MS = 2000;
/** A boot this much slower than the reference means something is wrong, not just busy. */
export const MAX_SPEED_FACTOR = 20;

/** How many times slower than the reference this run is: at least 1, at most MAX_SPEED_FACTOR. */
export function speedFactor(bootMs: number, referenceMs = REFERENCE_BOOT_MS): number {
  if (!Number.isFinite(bootMs) || bootMs <= 0) return 1;
  return Math.min(MAX_SPEED_FACTOR, Math.max(1, Math.round((bootMs / referenceMs) * 100) / 100));
}

/**
 * Inside the guest: the factor the host measured for this run (`NODEAGENT_VM_SPEED_FACTOR`, set by
 * run.sh), 1 outside the VM. Scenario scripts multiply their own waits by it.
 */
export function guestSpeedFactor(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.NODEAGENT_VM_SPEED_FACTOR);
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

/**
 * The vitest limit for a test or hook that boots the VM: far beyond any real run, so the VM's
 * own limits (boot, then the command's scaled by the speed factor) are the ones that apply and
 * report what ran out.
 */
export const VM_TEST_TIMEOUT_MS = 30 * 60_000;
