// Image credential provider plugins (--image-credential-provider-config / -bin-dir), as upstream
// pkg/credentialprovider/plugin.
export {
  type CredentialProviderConfig,
  type CredentialProviderSpec,
  credentialProviderConfigErrors,
  decodeCredentialProviderConfig,
  readCredentialProviderConfig,
  validateCredentialProviderConfig,
} from './credential-provider-config';
export { CredentialProviderConfigError, CredentialProviderExecError } from './credential-provider-errors';
export { type CredentialProviderMetrics, credentialProviderMetrics } from './credential-provider-metrics';
export {
  apiServiceAccountGetter,
  imageCredentialProvidersFromFlags,
} from './credential-providers-from-flags';
export {
  type DockerConfig,
  DockerKeyring,
  type RegistryCredential,
  repositoryToPull,
} from './docker-keyring';
export { ExecPlugin, pluginExecTimeoutMs } from './exec-plugin';
export { ImageCredentialProviders, type ImageCredentialProvidersOptions } from './image-credential-providers';
export { parseSchemelessURL, urlsMatchStr } from './image-url-match';
export {
  PluginProvider,
  type PullingPod,
  type ServiceAccountGetter,
  type ServiceAccountInfo,
} from './plugin-provider';
