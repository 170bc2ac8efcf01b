/** One DNS-1123 subdomain-prefixed qualified name, as apimachinery's IsQualifiedName accepts it. */
const qualifiedName =
  /^(([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Upstream v1helper.IsExtendedResourceName: a resource outside the kubernetes.io namespace (so
 * it has a domain prefix), not starting "requests.", whose "requests." quota form is a
 * qualified name (name part at most 63 characters, prefix at most 253).
 */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.startsWith('requests.')) return false;
  const prefix = name.slice(0, name.indexOf('/'));
  if (prefix === 'kubernetes.io' || prefix.endsWith('.kubernetes.io')) return false;
  const quota = `requests.${name}`;
  const slash = quota.indexOf('/');
  if (slash > 253 || quota.length - slash - 1 > 63) return false;
  return qualifiedName.test(quota);
}
