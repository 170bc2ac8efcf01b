import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidConfigError } from '../errors';
import { decodeKubeletConfigurationText } from './load-config-file';

type ConfigObject = Record<string, unknown>;

function isObject(value: unknown): value is ConfigObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * JSON merge patch (RFC 7386), how upstream lays a drop-in over the configuration: objects merge
 * key by key, lists and scalars replace, null removes the key.
 */
export function mergeConfigurationPatch(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: ConfigObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = mergeConfigurationPatch(out[key], value);
    else out[key] = value;
  }
  return out;
}

/** The `*.conf` files under dir (subdirectories too), in lexical order of their paths. */
export async function listDropInFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.conf'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * --config-dir: every `*.conf` file (a KubeletConfiguration with apiVersion and kind, as upstream
 * requires) merged in lexical order over the base object from --config.
 */
export async function mergeConfigurationDropIns(
  base: Record<string, unknown>,
  dir: string,
): Promise<Record<string, unknown>> {
  let merged = base;
  for (const file of await listDropInFiles(dir)) {
    let dropIn: ConfigObject;
    try {
      dropIn = decodeKubeletConfigurationText(await readFile(file, 'utf8'), dirname(file), file);
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error;
      throw new InvalidConfigError(error.field, error.value, `${error.reason} (drop-in ${file})`);
    }
    merged = mergeConfigurationPatch(merged, dropIn);
  }
  return merged;
}
