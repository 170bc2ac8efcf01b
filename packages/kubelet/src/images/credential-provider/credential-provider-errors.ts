import { KubeletError } from '../../errors';

/**
 * --image-credential-provider-config or --image-credential-provider-bin-dir cannot be used: the
 * file does not decode, fails upstream's validation, or a provider's binary is missing. The
 * message is upstream's; `field` names the flag and `value` its path.
 */
export class CredentialProviderConfigError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('INVALID_CREDENTIAL_PROVIDER_CONFIG', field, value, reason, reason);
  }
}

/**
 * Running one credential provider plugin for one image failed (exec, timeout, exit status, its
 * response). `field` names the provider, `value` the image; the message is upstream's.
 */
export class CredentialProviderExecError extends KubeletError {
  constructor(provider: string, image: string, reason: string) {
    super('CREDENTIAL_PROVIDER_EXEC', `providers[${provider}]`, image, reason, reason);
  }
}
