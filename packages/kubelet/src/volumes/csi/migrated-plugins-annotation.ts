/**
 * The CSINode annotation that tells the attach/detach controller and the scheduler which in-tree
 * volume plugins this node hands to CSI drivers (v1.MigratedPluginsAnnotationKey).
 */
export const MIGRATED_PLUGINS_ANNOTATION = 'storage.alpha.kubernetes.io/migrated-plugins';

/**
 * The annotations with the annotation set to `plugins` (sorted, comma-joined, removed when there
 * are none), or undefined when the annotation already names the same set (upstream's
 * setMigrationAnnotation, which compares sets, not strings).
 */
export function withMigrationAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  plugins: readonly string[],
): Record<string, string> | undefined {
  const had = annotations?.[MIGRATED_PLUGINS_ANNOTATION] ?? '';
  const old = new Set(had === '' ? [] : had.split(','));
  const wanted = [...new Set(plugins)].sort();
  if (old.size === wanted.length && wanted.every((p) => old.has(p))) return undefined;
  const next = { ...annotations };
  if (wanted.length > 0) next[MIGRATED_PLUGINS_ANNOTATION] = wanted.join(',');
  else delete next[MIGRATED_PLUGINS_ANNOTATION];
  return next;
}
