import { ApplyError } from '../errors';

/** The 1-based payload line iptables-restore blamed, from either back end's wording. */
export function failedLineOf(stderr: string): number | undefined {
  const match =
    /Error occurred at line: (\d+)/.exec(stderr) ??
    /line (\d+) failed/.exec(stderr) ??
    /^line (\d+):/m.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

/** Text of line `n` (1-based) without splitting a possibly huge payload into an array. */
export function lineAt(payload: string, n: number): string | undefined {
  let start = 0;
  for (let i = 1; i < n; i++) {
    const next = payload.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  if (start >= payload.length) return undefined;
  const end = payload.indexOf('\n', start);
  return payload.slice(start, end < 0 ? undefined : end);
}

export function restoreError(
  command: readonly string[],
  exitCode: number | null,
  stderr: string,
  payload: string,
  /** Map a line number of the payload as sent to the caller's payload (see cache-widening). */
  mapLine: (line: number) => number = (line) => line,
): ApplyError {
  const sent = failedLineOf(stderr);
  const line = sent === undefined ? undefined : mapLine(sent);
  return new ApplyError(
    command,
    exitCode,
    stderr,
    line,
    line === undefined ? undefined : lineAt(payload, line),
  );
}
