import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { TokenSource } from '../../volumes/volume-payloads';
import {
  type CredentialProviderConfig,
  readCredentialProviderConfig,
  validateCredentialProviderConfig,
} from './credential-provider-config';
import { CredentialProviderConfigError } from './credential-provider-errors';
import { credentialProviderMetrics, recordCredentialProviderConfigHash } from './credential-provider-metrics';
import { DockerKeyring, type RegistryCredential } from './docker-keyring';
import { ExecPlugin } from './exec-plugin';
import {
  PluginProvider,
  type ProviderLog,
  type PullingPod,
  type ServiceAccountGetter,
} from './plugin-provider';

/** The flag naming the directory of provider executables (the field of bin-dir errors). */
export const credentialProviderBinDirFlag = '--image-credential-provider-bin-dir';

/** The flags, clock, metrics registry and token-mode sources ImageCredentialProviders.load works with. */
export interface ImageCredentialProvidersOptions {
  /** --image-credential-provider-config: a file or a directory of them. */
  configPath: string;
  /** --image-credential-provider-bin-dir: where each provider's executable (its name) lives. */
  binDir: string;
  /** The clock the provider caches expire on (default: the system clock). */
  clock?: Clock;
  /** The kubelet's /metrics registry (plugin duration and errors). */
  registry?: Registry;
  /** Token mode: service account tokens bound to the pod (TokenRequest). */
  tokens?: TokenSource;
  /** Token mode: the pod's ServiceAccount (UID, annotations). */
  serviceAccounts?: ServiceAccountGetter;
  /** Where provider errors go (none: they are dropped and the pull goes on without those credentials). */
  log?: ProviderLog;
  /** Limit on one plugin run (upstream: one minute). */
  execTimeoutMs?: number;
  /** Feature gate KubeletServiceAccountTokenForCredentialProviders (on by default). */
  serviceAccountTokenForCredentialProviders?: boolean;
}

/**
 * Upstream's external credential provider keyring: the providers of CredentialProviderConfig in
 * file order. For an image every provider that matches it is asked (from cache or by running
 * it); their auth entries go into one keyring, which returns the entries matching the image most
 * specific first. An entry given by several providers keeps each one's credentials, in order.
 */
export class ImageCredentialProviders {
  /** @internal The providers in config file order (tests inspect them). */
  readonly providers: PluginProvider[];

  private constructor(providers: PluginProvider[]) {
    this.providers = providers;
  }

  /**
   * Upstream RegisterCredentialProviderPlugins: the bin dir must exist, the config must decode
   * and validate, and each provider's executable must be in the bin dir.
   */
  static async load(options: ImageCredentialProvidersOptions): Promise<ImageCredentialProviders> {
    const { binDir } = options;
    try {
      await stat(binDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CredentialProviderConfigError(
        credentialProviderBinDirFlag,
        binDir,
        code === 'ENOENT'
          ? `plugin binary directory ${binDir} did not exist`
          : `error inspecting binary directory ${binDir}: ${(error as Error).message}`,
      );
    }
    const { config, hash } = await readCredentialProviderConfig(options.configPath);
    validateCredentialProviderConfig(
      config,
      options.configPath,
      options.serviceAccountTokenForCredentialProviders ?? true,
    );
    if (options.registry) recordCredentialProviderConfigHash(options.registry, hash);
    for (const provider of config.providers) {
      const path = join(binDir, provider.name);
      // exec.LookPath: a regular file with an execute bit.
      const usable = await stat(path)
        .then(
          async (s) =>
            s.isFile() &&
            (await access(path, constants.X_OK).then(
              () => true,
              () => false,
            )),
        )
        .catch(() => false);
      if (!usable)
        throw new CredentialProviderConfigError(
          credentialProviderBinDirFlag,
          path,
          `plugin binary executable ${path} did not exist`,
        );
    }
    return ImageCredentialProviders.fromConfig(config, options);
  }

  /** The provider set for an already validated config (no file system checks). */
  static fromConfig(
    config: CredentialProviderConfig,
    options: Omit<ImageCredentialProvidersOptions, 'configPath'>,
  ): ImageCredentialProviders {
    const clock = options.clock ?? systemClock;
    const metrics = options.registry ? credentialProviderMetrics(options.registry) : undefined;
    const tokenMode = options.serviceAccountTokenForCredentialProviders ?? true;
    return new ImageCredentialProviders(
      config.providers.map((spec) => {
        const plugin = new ExecPlugin(spec, options.binDir, metrics, options.execTimeoutMs);
        return new PluginProvider(tokenMode ? spec : { ...spec, tokenAttributes: undefined }, {
          clock,
          run: (request) => plugin.run(request),
          tokens: options.tokens,
          serviceAccounts: options.serviceAccounts,
          log: options.log,
        });
      }),
    );
  }

  /** Credentials for `repository` (upstream repoToPull: no tag or digest), most specific first. */
  async lookup(repository: string, pod?: PullingPod): Promise<RegistryCredential[]> {
    const keyring = new DockerKeyring();
    for (const provider of this.providers) keyring.add(await provider.provide(repository, pod));
    return keyring.lookup(repository);
  }
}
