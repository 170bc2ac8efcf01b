import { parseAllowlistPattern } from '../config/image-allowlist-pattern';
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
