/** The Node annotation the TTL controller sets: seconds a kubelet may cache ConfigMaps and Secrets (v1.ObjectTTLAnnotationKey). */
export const objectTtlAnnotation = 'node.alpha.kubernetes.io/ttl';

/**
 * The TTL in ms a Node's annotation sets, as upstream's GetObjectTTLFromNodeFunc reads it (a
 * whole number of seconds, strconv.Atoi's syntax); undefined without the annotation or when it
 * does not parse, and the default TTL applies.
 */
export function objectTtlFromNode(
  node: { metadata?: { annotations?: Record<string, string> } } | undefined,
): number | undefined {
  const value = node?.metadata?.annotations?.[objectTtlAnnotation];
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return undefined;
  const seconds = Number(value);
  // Atoi refuses what does not fit an int64; such a value leaves the default.
  return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
}
