import { goAtoi } from '@nodeagent/primitives/go-text';

/**
 * Why k8s.io/utils' cpuset.Parse refuses `text` (a Linux CPU list such as "0-3,8"), in its
 * words, or undefined when it parses; "" is the empty set. Upstream parses each comma-separated
 * part with Go's strconv.Atoi, so a sign is accepted and spaces are not.
 */
export function cpuListProblem(text: string): string | undefined {
  if (text === '') return undefined;
  for (const part of text.split(',')) {
    const dash = part.indexOf('-');
    if (dash === -1) {
      const problem = atoiProblem(part);
      if (problem) return problem;
      continue;
    }
    const [first, second] = [part.slice(0, dash), part.slice(dash + 1)];
    const problem = atoiProblem(first) ?? atoiProblem(second);
    if (problem) return problem;
    if (Number(first) > Number(second))
      return `invalid range ${JSON.stringify(part)} (${Number(first)} > ${Number(second)})`;
  }
  return undefined;
}

/** Go's strconv.Atoi error for `text`, or undefined. */
function atoiProblem(text: string): string | undefined {
  const parsed = goAtoi(text);
  return 'error' in parsed ? parsed.error : undefined;
}
