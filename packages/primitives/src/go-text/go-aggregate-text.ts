/**
 * The text of upstream's utilerrors.NewAggregate: each distinct message once, in order; one
 * alone as it is, several as `[a, b]`. (NewAggregate of no errors is nil: callers decide.)
 */
export function goAggregateText(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] as string) : `[${unique.join(', ')}]`;
}
