/**
 * One input to the Ready condition (runtime reachable, PLEG healthy, network ready, ...).
 * Resolve to an error text when unhealthy, or undefined/'' when healthy; a throw counts as
 * unhealthy with the error's message.
 */
export interface ReadyCheck {
  name: string;
  /** Resolves to why the node is not ready, or nothing when this part is fine. */
  check: () => Promise<string | undefined | null> | string | undefined | null;
}

/** The Ready condition's outcome: ready or not, and the reasons collected from the checks. */
export interface ReadyVerdict {
  ready: boolean;
  /** Unhealthy checks' messages, in check order. */
  errors: string[];
}

/** Runs every check concurrently; a check that hangs longer than timeoutMs counts as failed. */
export async function evaluateReadyChecks(
  checks: readonly ReadyCheck[],
  timeoutMs = 5_000,
): Promise<ReadyVerdict> {
  const errors = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve(`${c.name}: check timed out after ${timeoutMs}ms`), timeoutMs);
        });
        return (await Promise.race([Promise.resolve(c.check()), timeout])) || undefined;
      } catch (err) {
        return `${c.name}: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failed = errors.filter((e): e is string => Boolean(e));
  return { ready: failed.length === 0, errors: failed };
}
