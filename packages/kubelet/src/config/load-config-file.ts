import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InvalidConfigError } from '../errors';
import {
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
  type ParsedKubeletConfiguration,
  parseKubeletConfiguration,
} from './kubelet-configuration';

/**
 * Reads a KubeletConfiguration file (YAML or JSON). Like upstream, relative paths in the file
 * are relative to the file's directory, and apiVersion/kind must be present and match.
 */
export async function loadKubeletConfigurationFile(path: string): Promise<ParsedKubeletConfiguration> {
  const text = await readFile(path, 'utf8');
  return parseKubeletConfigurationText(text, dirname(resolve(path)));
}

export function parseKubeletConfigurationText(text: string, baseDir: string): ParsedKubeletConfiguration {
  let decoded: unknown;
  try {
    decoded = parseYaml(text);
  } catch (error) {
    throw new InvalidConfigError(
      'KubeletConfiguration',
      text.slice(0, 80),
      `not valid YAML or JSON: ${(error as Error).message}`,
    );
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw new InvalidConfigError('KubeletConfiguration', decoded, 'must be an object');
  }
  const object = decoded as Record<string, unknown>;
  if (object.apiVersion !== kubeletConfigurationApiVersion) {
    throw new InvalidConfigError(
      'apiVersion',
      object.apiVersion,
      `must be ${kubeletConfigurationApiVersion}`,
    );
  }
  if (object.kind !== kubeletConfigurationKind) {
    throw new InvalidConfigError('kind', object.kind, `must be ${kubeletConfigurationKind}`);
  }
  const parsed = parseKubeletConfiguration(object);
  return { ...parsed, config: resolveRelativePaths(parsed.config, baseDir) };
}

/** The path-valued fields upstream resolves against the config file's directory. */
function resolveRelativePaths(config: KubeletConfiguration, baseDir: string): KubeletConfiguration {
  const fix = (path: string) => (path === '' || isAbsolute(path) ? path : resolve(baseDir, path));
  return {
    ...config,
    staticPodPath: fix(config.staticPodPath),
    tlsCertFile: fix(config.tlsCertFile),
    tlsPrivateKeyFile: fix(config.tlsPrivateKeyFile),
    resolvConf: fix(config.resolvConf),
    authentication: {
      ...config.authentication,
      x509: { clientCAFile: fix(config.authentication.x509.clientCAFile) },
    },
  };
}

/**
 * Applies command-line overrides on top of a configuration (flags win over the file, as
 * upstream), then validates the result again.
 */
export function applyConfigurationOverrides(
  config: KubeletConfiguration,
  overrides: KubeletConfigurationInput,
): KubeletConfiguration {
  const merged: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) merged[key] = value;
  }
  return parseKubeletConfiguration(merged).config;
}
