import { InvalidConfigError } from '../errors';
import { repositoryToPull } from './credential-provider/docker-keyring';

/** KubeletConfiguration imagePullCredentialsVerificationPolicy values (v1beta1 default: NeverVerifyPreloadedImages). */
export type ImagePullCredentialsVerificationPolicy =
  | 'NeverVerify'
  | 'NeverVerifyPreloadedImages'
  | 'NeverVerifyAllowlistedImages'
  | 'AlwaysVerify';

/**
 * Whether the policy demands that a pod's credentials be checked before it uses a present
 * image (upstream ImagePullPolicyEnforcer). `pulledByKubelet`: a pulled record or a pull
 * intent exists for the image, i.e. the kubelet pulled it, not something else on the node.
 */
export type ImagePullVerificationPolicy = (image: string, pulledByKubelet: boolean) => boolean;

const policyField = 'imagePullCredentialsVerificationPolicy';
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
  if (repositoryToPull(trimmed) !== trimmed)
    throw fail(`neither tag nor digest is accepted in an image reference: ${pattern}`);
  return { exact: trimmed };
}

/**
 * The policy the kubelet enforces (upstream NewImagePullCredentialVerificationPolicy). An
 * allowlisted image (NeverVerifyAllowlistedImages) is matched by its normalized name, so
 * "busybox" in a pod matches "docker.io/library/busybox" in the list.
 */
export function imagePullVerificationPolicy(
  policy: ImagePullCredentialsVerificationPolicy | '',
  allowlist: readonly string[],
): ImagePullVerificationPolicy {
  switch (policy) {
    case 'NeverVerify':
      return () => false;
    case '':
    case 'NeverVerifyPreloadedImages':
      return (_image, pulledByKubelet) => pulledByKubelet;
    case 'AlwaysVerify':
      return () => true;
    case 'NeverVerifyAllowlistedImages': {
      const exact = new Set<string>();
      const prefixes: string[] = [];
      for (const pattern of allowlist) {
        const parsed = parseAllowlistPattern(pattern);
        if (parsed.exact) exact.add(parsed.exact);
        if (parsed.prefix) prefixes.push(parsed.prefix);
      }
      return (image) => {
        const name = repositoryToPull(image);
        return !(exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix)));
      };
    }
    default:
      throw new InvalidConfigError(
        policyField,
        policy,
        `unknown image pull credential verification policy: ${policy as string}`,
      );
  }
}
