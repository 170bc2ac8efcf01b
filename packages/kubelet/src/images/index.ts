// @nodeagent/kubelet/images: Image garbage collection and the image half of the CRI it uses.

export {
  apiServiceAccountGetter,
  CredentialProviderConfigError,
  ImageCredentialProviders,
  imageCredentialProvidersFromFlags,
} from './credential-provider';
export { ImageGCError } from './image-gc-errors';
export { ImageGCManager, type ImageGCManagerOptions, type ImageGCResult } from './image-gc-manager';
export { type ImageGCPolicy, imageGCPeriodMs, imageGCPolicyFromConfig } from './image-gc-policy';
export { criImageService, type ImageService, type RuntimeImage } from './image-service';
