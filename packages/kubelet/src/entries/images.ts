// @nodeagent/kubelet/images: Image garbage collection, verified image pulls (KEP-2535), credential providers and the image half of the CRI.

export type {
  CredentialProviderConfig,
  CredentialProviderSpec,
  ServiceAccountTokenAttributes,
} from '../images/credential-provider/credential-provider-config';
export { CredentialProviderConfigError } from '../images/credential-provider/credential-provider-errors';
export {
  apiServiceAccountGetter,
  imageCredentialProvidersFromFlags,
} from '../images/credential-provider/credential-providers-from-flags';
export type { RegistryCredential } from '../images/credential-provider/docker-keyring';
export {
  ImageCredentialProviders,
  type ImageCredentialProvidersOptions,
} from '../images/credential-provider/image-credential-providers';
export type {
  ProviderLog,
  PullingPod,
  ServiceAccountGetter,
  ServiceAccountInfo,
} from '../images/credential-provider/plugin-provider';
export type { CredentialSource, ObjectCoordinates } from '../images/credential-source';
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
export type { ImagePullCredentials, ImagePullSecretRecord } from '../images/image-pull-records';
export {
  type ImagePullCredentialsVerificationPolicy,
  type ImagePullVerificationPolicy,
  imagePullVerificationPolicy,
} from '../images/image-pull-verification-policy';
export { criImageService, type ImageService, type RuntimeImage } from '../images/image-service';
export type { TrackedPullAuth } from '../images/tracked-pull-credentials';
