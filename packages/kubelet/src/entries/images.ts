// @nodeagent/kubelet/images: Image garbage collection, verified image pulls (KEP-2535), credential providers and the image half of the CRI.

export { CredentialProviderConfigError } from '../images/credential-provider/credential-provider-errors';
export {
  apiServiceAccountGetter,
  imageCredentialProvidersFromFlags,
} from '../images/credential-provider/credential-providers-from-flags';
export { ImageCredentialProviders } from '../images/credential-provider/image-credential-providers';
export { ImageGCError } from '../images/image-gc-errors';
export { ImageGCManager, type ImageGCManagerOptions, type ImageGCResult } from '../images/image-gc-manager';
export { type ImageGCPolicy, imageGCPeriodMs, imageGCPolicyFromConfig } from '../images/image-gc-policy';
export { imagePullConcurrency, limitImagePulls } from '../images/image-pull-limit';
export {
  ImagePullManager,
  type ImagePullManagerOptions,
  type PodImageCredentials,
  type PresentImage,
} from '../images/image-pull-manager';
export { imagePullManagerFromConfig } from '../images/image-pull-manager-from-config';
export {
  type ImagePullCredentialsVerificationPolicy,
  imagePullVerificationPolicy,
} from '../images/image-pull-verification-policy';
export { criImageService, type ImageService, type RuntimeImage } from '../images/image-service';
