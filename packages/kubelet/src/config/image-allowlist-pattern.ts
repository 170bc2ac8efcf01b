import { InvalidConfigError } from '../errors';

const allowlistField = 'preloadedImagesVerificationAllowlist';

/**
 * One allowlist entry as upstream accepts it: an image name without tag or digest, fully
 * qualified ("docker.io/library/busybox"), or a prefix ending in "/*" that names at least a
 * registry host. Returns the exact name or the prefix (with its trailing "/").
 */
export function parseAllowlistPattern(pattern: string): { exact?: string; prefix?: string } {
  const fail = (reason: string) => new InvalidConfigError(allowlistField, pattern, reason);
  if (pattern !== pattern.trim()) throw fail(`leading/trailing spaces are not allowed: ${pattern}`);
  const wildcard = pattern.endsWith('/*');
  const trimmed = wildcard ? pattern.slice(0, -1) : pattern;
  if (trimmed.length === 0) throw fail(`the supplied pattern is too short: ${pattern}`);
  if (trimmed.includes('*'))
    throw fail(`not a valid wildcard pattern, only patterns ending with '/*' are allowed: ${pattern}`);
  if (wildcard) {
    if (trimmed.length === 1) throw fail('at least registry hostname is required');
    return { prefix: trimmed };
  }
  // The characters of a reference (distribution/reference); its finer grammar is not checked here.
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/.test(trimmed))
    throw fail('failed to parse as an image name: invalid reference format');
  if (!isQualifiedRepository(trimmed))
    throw fail(`neither tag nor digest is accepted in an image reference: ${pattern}`);
  return { exact: trimmed };
}

/**
 * Whether `name` is an image repository as upstream's normalization leaves it: a registry host
 * first (with "." or ":", or "localhost", not Docker Hub's "index.docker.io"), no tag, no digest.
 */
function isQualifiedRepository(name: string): boolean {
  if (name.includes('@')) return false;
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const host = name.slice(0, slash);
  if (!(host.includes('.') || host.includes(':') || host === 'localhost') || host === 'index.docker.io')
    return false;
  return !name.slice(slash + 1).includes(':');
}
