import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InvalidConfigError } from '../errors';
import { parseBoundedYaml } from './bounded-yaml';
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
  return parseKubeletConfiguration(await readKubeletConfigurationFile(path));
}

/**
 * A configuration file decoded but not yet defaulted or validated (relative paths resolved), so
 * drop-ins and flags can go on top before upstream's defaulting and validation.
 */
export async function readKubeletConfigurationFile(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8');
  return decodeKubeletConfigurationText(text, dirname(resolve(path)), path);
}

/**
 * Decodes, defaults and validates a configuration file's YAML or JSON text; relative paths in it are resolved
 * against `baseDir`. Throws InvalidConfigError naming the first bad field.
 */
export function parseKubeletConfigurationText(text: string, baseDir: string): ParsedKubeletConfiguration {
  return parseKubeletConfiguration(decodeKubeletConfigurationText(text, baseDir));
}

/** YAML/JSON text to an object with apiVersion and kind checked and relative paths resolved. */
export function decodeKubeletConfigurationText(
  text: string,
  baseDir: string,
  source = 'KubeletConfiguration',
): Record<string, unknown> {
  let decoded: unknown;
  try {
    decoded = parseBoundedYaml(text);
  } catch (error) {
    throw yamlError(error, source);
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
  return resolveRelativePaths(object, baseDir);
}

/**
 * A YAML syntax error as one line: where it is (line and column) and what the parser expected,
 * never the file's text (which may hold secrets and buries the position).
 */
function yamlError(error: unknown, source: string): InvalidConfigError {
  const yaml = error as { linePos?: { line: number; col: number }[]; code?: string; message?: string };
  const at = yaml.linePos?.[0];
  const what = (yaml.message ?? String(error)).split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const where = at ? ` at line ${at.line}, column ${at.col}` : '';
  const invalid = new InvalidConfigError(source, undefined, `not valid YAML or JSON${where}: ${what}`);
  invalid.message = `${source}: not valid YAML or JSON${where}: ${what}`;
  return invalid;
}

/** The path-valued fields upstream resolves against the config file's directory. */
function resolveRelativePaths(object: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const fix = (path: unknown) =>
    typeof path !== 'string' || path === '' || isAbsolute(path) ? path : resolve(baseDir, path);
  const out: Record<string, unknown> = { ...object };
  for (const key of ['staticPodPath', 'tlsCertFile', 'tlsPrivateKeyFile', 'resolvConf'])
    if (key in out) out[key] = fix(out[key]);
  const authentication = out.authentication as { x509?: { clientCAFile?: unknown } } | undefined;
  if (authentication?.x509 && 'clientCAFile' in authentication.x509) {
    out.authentication = {
      ...authentication,
      x509: { ...authentication.x509, clientCAFile: fix(authentication.x509.clientCAFile) },
    };
  }
  return out;
}

/**
 * Applies command-line overrides on top of a configuration (flags win over the file, as
 * upstream), then validates the result: the flags' values are taken as given, not defaulted.
 */
export function applyConfigurationOverrides(
  config: KubeletConfiguration,
  overrides: KubeletConfigurationInput,
): KubeletConfiguration {
  const merged: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) merged[key] = value;
  }
  return parseKubeletConfiguration(merged, { zeroValueDefaults: false }).config;
}
