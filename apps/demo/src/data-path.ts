import { execFile } from 'node:child_process';

export interface Answer {
  attempt: number;
  /** The body the pod served: its hostname, i.e. the pod name. */
  answeredBy?: string;
  error?: string;
}

export type Fetcher = (url: string) => Promise<string>;

/**
 * A fresh TCP connection per request from inside the node's network namespace (busybox wget via
 * nsenter), so every request goes through kube-proxy's ClusterIP rules and may pick another pod.
 */
export function netnsFetcher(netnsPath: string, timeoutSeconds = 3): Fetcher {
  return (url) =>
    new Promise((resolve, reject) => {
      execFile(
        'nsenter',
        // No `-T`: Debian's static busybox wget crashes with it; execFile's timeout kills instead.
        [`--net=${netnsPath}`, '--', 'busybox', 'wget', '-q', '-O', '-', url],
        { timeout: timeoutSeconds * 1000, killSignal: 'SIGKILL' },
        (error, stdout, stderr) =>
          error ? reject(new Error(stderr.trim() || error.message)) : resolve(stdout),
      );
    });
}

/**
 * Requests per expected pod before one that has not answered counts as unreachable. kube-proxy
 * picks an endpoint uniformly at random per connection, so with n pods the chance that a
 * reachable one is still missing after 20·n requests is below n·e^-20 (2·10^-9 per pod). A cap
 * of 3 × count left 6 pods a ~7% chance of a false failure (seen in CI: one of 6 pods unanswered
 * after 24 requests).
 */
export const ATTEMPTS_PER_EXPECTED_POD = 20;

/**
 * Sends `count` requests; if some of `expectPods` has not answered by then (the choice is random
 * per connection), keeps going up to `maxCount` so one unlucky streak does not read as a failure.
 */
export async function fetchRepeatedly(
  fetch: Fetcher,
  url: string,
  count: number,
  expectPods: string[] = [],
  maxCount = Math.max(count * 3, expectPods.length * ATTEMPTS_PER_EXPECTED_POD),
): Promise<Answer[]> {
  const answers: Answer[] = [];
  const missing = () => expectPods.some((p) => !answers.some((a) => a.answeredBy === p));
  for (let attempt = 1; attempt <= maxCount; attempt++) {
    if (attempt > count && !missing()) break;
    try {
      answers.push({ attempt, answeredBy: (await fetch(url)).trim() });
    } catch (error) {
      answers.push({ attempt, error: (error as Error).message });
    }
  }
  return answers;
}

/** How many requests each pod answered (failures under the key ""), sorted by pod name. */
export function tallyAnswers(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a.answeredBy ?? '';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every expected pod answered at least once and no request failed. */
export function everyPodAnswered(answers: Answer[], pods: string[]): boolean {
  const heard = new Set(answers.map((a) => a.answeredBy));
  return answers.every((a) => a.error === undefined) && pods.length > 0 && pods.every((p) => heard.has(p));
}
