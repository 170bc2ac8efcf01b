import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { formatDuration, parseDuration } from '@nodeagent/primitives';
import { parse as parseYaml } from 'yaml';
import { qualifiedNameErrors } from '../../api/qualified-name';
import { CredentialProviderConfigError } from './credential-provider-errors';
import { parseSchemelessURL } from './image-url-match';

/** The flag whose file this is (the field of every config error). */
export const credentialProviderConfigFlag = '--image-credential-provider-config';

/** credentialprovider.kubelet.k8s.io versions a provider may speak (upstream apiVersions). */
export const credentialProviderAPIVersions = [
  'credentialprovider.kubelet.k8s.io/v1',
  'credentialprovider.kubelet.k8s.io/v1alpha1',
  'credentialprovider.kubelet.k8s.io/v1beta1',
];
const tokenAPIVersion = 'credentialprovider.kubelet.k8s.io/v1';
const configGroup = 'kubelet.config.k8s.io';
const configVersions = ['v1', 'v1beta1', 'v1alpha1'];
/** tokenAttributes.cacheType values (upstream validCacheTypes, sorted). */
export const serviceAccountTokenCacheTypes = ['ServiceAccount', 'Token'];

/**
 * A provider's tokenAttributes (token mode): the kubelet passes it a service account token for the pulling pod,
 * with this audience and the listed ServiceAccount annotations.
 */
export interface ServiceAccountTokenAttributes {
  serviceAccountTokenAudience: string;
  requireServiceAccount?: boolean;
  requiredServiceAccountAnnotationKeys: string[];
  optionalServiceAccountAnnotationKeys: string[];
  cacheType: string;
}

/** One CredentialProvider entry of CredentialProviderConfig (kubelet.config.k8s.io/v1). */
export interface CredentialProviderSpec {
  name: string;
  matchImages: string[];
  /** Milliseconds; undefined when the file leaves it out (a validation error). */
  defaultCacheDurationMs?: number;
  apiVersion: string;
  args: string[];
  env: { name: string; value: string }[];
  tokenAttributes?: ServiceAccountTokenAttributes;
}

/** A decoded CredentialProviderConfig file (--image-credential-provider-config): its providers in file order. */
export interface CredentialProviderConfig {
  providers: CredentialProviderSpec[];
}

const providerFields = [
  'name',
  'matchImages',
  'defaultCacheDuration',
  'apiVersion',
  'args',
  'env',
  'tokenAttributes',
];
const tokenFields = [
  'serviceAccountTokenAudience',
  'requireServiceAccount',
  'requiredServiceAccountAnnotationKeys',
  'optionalServiceAccountAnnotationKeys',
  'cacheType',
];

function decodeError(file: string, reason: string): CredentialProviderConfigError {
  return new CredentialProviderConfigError(
    credentialProviderConfigFlag,
    file,
    `error decoding config ${JSON.stringify(file)}: ${reason}`,
  );
}

function strings(value: unknown, where: string, file: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw decodeError(file, `json: cannot unmarshal ${where} into []string`);
  return value as string[];
}

function unknownFields(object: Record<string, unknown>, known: string[], prefix: string): string[] {
  return Object.keys(object)
    .filter((key) => !known.includes(key))
    .map((key) => `unknown field ${JSON.stringify(`${prefix}${key}`)}`);
}

/** Upstream decode(): one document, strictly (unknown fields refused), of the right group and kind. */
export function decodeCredentialProviderConfig(text: string, file: string): CredentialProviderConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw decodeError(file, (error as Error).message.split('\n')[0]!);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw decodeError(file, "Object 'Kind' is missing in the document");
  const doc = raw as Record<string, unknown>;
  if (typeof doc.kind !== 'string' || doc.kind === '')
    throw decodeError(file, "Object 'Kind' is missing in the document");
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group !== configGroup || !configVersions.includes(version ?? ''))
    throw decodeError(
      file,
      group === configGroup || group === ''
        ? `no kind ${JSON.stringify(doc.kind)} is registered for version ${JSON.stringify(apiVersion)}`
        : `failed to decode CredentialProviderConfig, unexpected Group: ${group}`,
    );
  if (doc.kind !== 'CredentialProviderConfig')
    throw decodeError(file, `failed to decode ${JSON.stringify(doc.kind)} (wrong Kind)`);
  const strict = unknownFields(doc, ['kind', 'apiVersion', 'providers'], '');
  const providers: CredentialProviderSpec[] = [];
  const list = doc.providers ?? [];
  if (!Array.isArray(list))
    throw decodeError(file, 'json: cannot unmarshal providers into []CredentialProvider');
  list.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null)
      throw decodeError(file, `json: cannot unmarshal providers[${i}] into CredentialProvider`);
    const p = entry as Record<string, unknown>;
    strict.push(...unknownFields(p, providerFields, `providers[${i}].`));
    let defaultCacheDurationMs: number | undefined;
    if (p.defaultCacheDuration !== undefined && p.defaultCacheDuration !== null) {
      try {
        defaultCacheDurationMs = parseDuration(String(p.defaultCacheDuration));
      } catch {
        throw decodeError(file, `time: invalid duration ${JSON.stringify(String(p.defaultCacheDuration))}`);
      }
    }
    const env = (Array.isArray(p.env) ? p.env : []).map((e: unknown, j: number) => {
      const v = (e ?? {}) as Record<string, unknown>;
      strict.push(...unknownFields(v, ['name', 'value'], `providers[${i}].env[${j}].`));
      return { name: String(v.name ?? ''), value: String(v.value ?? '') };
    });
    let tokenAttributes: ServiceAccountTokenAttributes | undefined;
    if (typeof p.tokenAttributes === 'object' && p.tokenAttributes !== null) {
      const t = p.tokenAttributes as Record<string, unknown>;
      strict.push(...unknownFields(t, tokenFields, `providers[${i}].tokenAttributes.`));
      tokenAttributes = {
        serviceAccountTokenAudience: String(t.serviceAccountTokenAudience ?? ''),
        requireServiceAccount:
          typeof t.requireServiceAccount === 'boolean' ? t.requireServiceAccount : undefined,
        requiredServiceAccountAnnotationKeys: strings(
          t.requiredServiceAccountAnnotationKeys,
          'requiredServiceAccountAnnotationKeys',
          file,
        ),
        optionalServiceAccountAnnotationKeys: strings(
          t.optionalServiceAccountAnnotationKeys,
          'optionalServiceAccountAnnotationKeys',
          file,
        ),
        cacheType: String(t.cacheType ?? ''),
      };
    }
    providers.push({
      name: String(p.name ?? ''),
      matchImages: strings(p.matchImages, 'matchImages', file),
      defaultCacheDurationMs,
      apiVersion: String(p.apiVersion ?? ''),
      args: strings(p.args, 'args', file),
      env,
      tokenAttributes,
    });
  });
  if (strict.length > 0) throw decodeError(file, `strict decoding error: ${strict.join(', ')}`);
  return { providers };
}

/**
 * Upstream readCredentialProviderConfig: a file, or a directory whose *.json, *.yaml and *.yml
 * files are read in lexical order and merged (a provider name may appear only once). `hash` is
 * upstream's "sha256:<hex>" over every file's 8-byte big-endian length and bytes, the label of
 * kubelet_credential_provider_config_info.
 */
export async function readCredentialProviderConfig(
  path: string,
): Promise<{ config: CredentialProviderConfig; hash: string }> {
  const fail = (reason: string) =>
    new CredentialProviderConfigError(credentialProviderConfigFlag, path, reason);
  if (path === '') throw fail('credential provider config path is empty');
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (error) {
    throw fail(`unable to access path ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  let files = [path];
  if (isDir) {
    const entries = await readdir(path, { withFileTypes: true });
    files = entries
      .filter((e) => !e.isDirectory() && ['.json', '.yaml', '.yml'].includes(extname(e.name)))
      .map((e) => join(path, e.name))
      .sort();
    if (files.length === 0) throw fail(`no configuration files found in directory ${JSON.stringify(path)}`);
  }
  const merged: CredentialProviderConfig = { providers: [] };
  const seen = new Set<string>();
  const hasher = createHash('sha256');
  const decoded: { file: string; config: CredentialProviderConfig }[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      throw fail(`unable to read file ${JSON.stringify(file)}: ${(error as Error).message}`);
    }
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(data.length));
    hasher.update(length).update(data);
    decoded.push({ file, config: decodeCredentialProviderConfig(data.toString('utf8'), file) });
  }
  for (const { config } of decoded) {
    for (const provider of config.providers) {
      if (seen.has(provider.name))
        throw fail(`duplicate provider name ${JSON.stringify(provider.name)} found in configuration file(s)`);
      seen.add(provider.name);
      merged.providers.push(provider);
    }
  }
  return { config: merged, hash: `sha256:${hasher.digest('hex')}` };
}

// apimachinery field.Error wording.
const quote = (v: string) => JSON.stringify(v);
const required = (f: string, detail = '') => `${f}: Required value${detail ? `: ${detail}` : ''}`;
const invalid = (f: string, value: string, detail: string) => `${f}: Invalid value: ${value}: ${detail}`;
const forbidden = (f: string, detail: string) => `${f}: Forbidden: ${detail}`;
const notSupported = (f: string, value: string, supported: string[]) =>
  `${f}: Unsupported value: ${quote(value)}: supported values: ${supported.map(quote).join(', ')}`;

/**
 * Upstream validateCredentialProviderConfig: every problem, in upstream's order and words
 * (field paths are upstream's too, without an index: "providers.name").
 */
export function credentialProviderConfigErrors(
  config: CredentialProviderConfig,
  serviceAccountTokenForCredentialProviders = true,
): string[] {
  const errs: string[] = [];
  if (config.providers.length === 0)
    errs.push(required('providers', 'at least 1 item in plugins is required'));
  const seen = new Set<string>();
  for (const provider of config.providers) {
    const { name } = provider;
    if (name.includes('/'))
      errs.push(invalid('providers.name', quote(name), "provider name cannot contain '/'"));
    if (name.includes(' '))
      errs.push(invalid('providers.name', quote(name), 'provider name cannot contain spaces'));
    if (name === '.') errs.push(invalid('providers.name', quote(name), "provider name cannot be '.'"));
    if (name === '..') errs.push(invalid('providers.name', quote(name), "provider name cannot be '..'"));
    if (seen.has(name)) errs.push(`providers.name: Duplicate value: ${quote(name)}`);
    seen.add(name);
    if (provider.apiVersion === '') errs.push(required('providers.apiVersion'));
    else if (!credentialProviderAPIVersions.includes(provider.apiVersion))
      errs.push(notSupported('providers.apiVersion', provider.apiVersion, credentialProviderAPIVersions));
    if (provider.matchImages.length === 0)
      errs.push(required('providers.matchImages', 'at least 1 item in matchImages is required'));
    for (const matchImage of provider.matchImages) {
      try {
        parseSchemelessURL(matchImage);
      } catch (error) {
        errs.push(
          invalid(
            'providers.matchImages',
            quote(matchImage),
            `match image is invalid: ${(error as Error).message}`,
          ),
        );
      }
    }
    if (provider.defaultCacheDurationMs === undefined) errs.push(required('providers.defaultCacheDuration'));
    else if (provider.defaultCacheDurationMs < 0)
      errs.push(
        invalid(
          'providers.defaultCacheDuration',
          formatDuration(provider.defaultCacheDurationMs),
          'must be greater than or equal to 0',
        ),
      );
    const token = provider.tokenAttributes;
    if (!token) continue;
    const at = 'providers.tokenAttributes';
    if (!serviceAccountTokenForCredentialProviders)
      errs.push(
        forbidden(
          at,
          'tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled',
        ),
      );
    if (token.serviceAccountTokenAudience === '') errs.push(required(`${at}.serviceAccountTokenAudience`));
    if (token.requireServiceAccount === undefined) errs.push(required(`${at}.requireServiceAccount`));
    if (provider.apiVersion !== tokenAPIVersion)
      errs.push(forbidden(at, `tokenAttributes is only supported for ${tokenAPIVersion} API version`));
    if (token.requireServiceAccount === false && token.requiredServiceAccountAnnotationKeys.length > 0)
      errs.push(
        forbidden(
          `${at}.requiredServiceAccountAnnotationKeys`,
          'requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set',
        ),
      );
    errs.push(
      ...annotationKeyErrors(
        `${at}.requiredServiceAccountAnnotationKeys`,
        token.requiredServiceAccountAnnotationKeys,
      ),
    );
    errs.push(
      ...annotationKeyErrors(
        `${at}.optionalServiceAccountAnnotationKeys`,
        token.optionalServiceAccountAnnotationKeys,
      ),
    );
    const both = [...new Set(token.requiredServiceAccountAnnotationKeys)]
      .filter((k) => token.optionalServiceAccountAnnotationKeys.includes(k))
      .sort();
    if (both.length > 0)
      errs.push(
        invalid(
          at,
          `[]string{${both.map(quote).join(', ')}}`,
          'annotation keys cannot be both required and optional',
        ),
      );
    if (token.cacheType === '')
      errs.push(
        required(
          `${at}.cacheType`,
          `cacheType is required to be set when tokenAttributes is specified. Supported values are: ${serviceAccountTokenCacheTypes.join(', ')}`,
        ),
      );
    else if (!serviceAccountTokenCacheTypes.includes(token.cacheType))
      errs.push(notSupported(`${at}.cacheType`, token.cacheType, serviceAccountTokenCacheTypes));
  }
  return errs;
}

function annotationKeyErrors(path: string, keys: string[]): string[] {
  const errs: string[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    for (const message of qualifiedNameErrors(key.toLowerCase()))
      errs.push(invalid(path, quote(key), message));
    if (seen.has(key)) errs.push(`${path}: Duplicate value: ${quote(key)}`);
    seen.add(key);
  }
  return errs;
}

/** Upstream's "failed to validate credential provider config: ..." with the errors aggregated. */
export function validateCredentialProviderConfig(
  config: CredentialProviderConfig,
  path: string,
  serviceAccountTokenForCredentialProviders = true,
): void {
  const errs = [
    ...new Set(credentialProviderConfigErrors(config, serviceAccountTokenForCredentialProviders)),
  ];
  if (errs.length === 0) return;
  const aggregate = errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`;
  throw new CredentialProviderConfigError(
    credentialProviderConfigFlag,
    path,
    `failed to validate credential provider config: ${aggregate}`,
  );
}
