/**
 * Polls `probe` every `pollMs` until it gives something other than undefined or false, and
 * returns that; throws naming `what` once `timeoutMs` (a hang guard, not a timing check) passes.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  // Generous: on a loaded machine a sync, a watch or a probe may take seconds.
  timeoutMs = 60_000,
  pollMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * waitFor where a probe that throws counts as "not yet" (an API object not created yet, a server
 * still starting); the timeout names the last error.
 */
export async function waitForDespiteErrors<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs?: number,
  pollMs?: number,
): Promise<T> {
  let last: unknown;
  const tolerant = async () => {
    try {
      return await probe();
    } catch (error) {
      last = error;
      return undefined;
    }
  };
  return waitFor(what, tolerant, timeoutMs, pollMs).catch((error: Error) => {
    throw last ? new Error(`${error.message}: ${String(last)}`) : error;
  });
}
