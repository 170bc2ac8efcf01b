/**
 * When to renew a certificate valid from `notBeforeMs` to `notAfterMs`: at a random point between
 * 70 % and 90 % of its lifetime (upstream's jitteryDuration: wait.Jitter(total, 0.2) - 0.3 total),
 * so nodes that joined together do not all renew at the same moment.
 */
export function rotationDeadline(
  notBeforeMs: number,
  notAfterMs: number,
  random: () => number = Math.random,
): number {
  const total = notAfterMs - notBeforeMs;
  return notBeforeMs + total * (0.7 + 0.2 * random());
}
