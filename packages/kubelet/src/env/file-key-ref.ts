import { lstat, readFile, readlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FileKeySelector } from '../api/pod-types';
import { KubeletError } from '../errors';
import { envFileValue } from './env-file';

/**
 * A fileKeyRef the kubelet cannot satisfy. Reported as the container's
 * CreateContainerConfigError, its message upstream's text alone (the fixture's env-file pod:
 * `couldn't parse env file`), the field and value kept for callers.
 */
export class FileKeyRefError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('CREATE_CONTAINER_CONFIG', field, value, reason, reason);
  }
}

/** Links followed at most while confining a path to its volume (as the kernel's limit). */
const maxSymlinks = 40;

/**
 * The host path of `relativePath` inside `root`, every `..` and symlink resolved as if `root`
 * were `/` (upstream SecureJoin): a link or `..` can never lead out of the volume.
 */
export async function pathInsideVolume(root: string, relativePath: string): Promise<string> {
  const pending = relativePath.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const stats = await lstat(candidate).catch(() => undefined);
    if (!stats?.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > maxSymlinks) throw new FileKeyRefError('path', relativePath, 'too many symlinks');
    const target = await readlink(candidate);
    if (isAbsolute(target)) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  const out = join(root, ...resolved);
  const inside = relative(resolve(root), resolve(out));
  if (inside.startsWith(`..${sep}`) || inside === '..')
    throw new FileKeyRefError('path', relativePath, 'outside the volume');
  return out;
}

/**
 * Upstream makeEnvironmentVariables for valueFrom.fileKeyRef (EnvFiles, beta on in v1.36): the
 * volume must be one of the pod's mounted volumes (an emptyDir an init container wrote); a file
 * missing or not in the strict env-file format is `couldn't parse env file` even when optional;
 * a key the file does not set (or sets to '') is skipped when optional, an error otherwise.
 * Returns undefined when the variable is to be left out.
 */
export async function resolveFileKeyRef(
  ref: FileKeySelector,
  field: string,
  volumeHostPaths: ReadonlyMap<string, string>,
): Promise<string | undefined> {
  const root = volumeHostPaths.get(ref.volumeName);
  if (root === undefined)
    throw new FileKeyRefError(
      `${field}.volumeName`,
      ref.volumeName,
      `cannot find the volume "${ref.volumeName}" referenced by FileKeyRef`,
    );
  const path = await pathInsideVolume(root, ref.path);
  let value: string | undefined;
  try {
    value = envFileValue(await readFile(path, 'utf8'), ref.key, path);
  } catch {
    // Upstream logs the parser's own error and reports this fixed text on the container.
    throw new FileKeyRefError(`${field}.path`, ref.path, "couldn't parse env file");
  }
  if (value === undefined || value === '') {
    if (ref.optional) return undefined;
    throw new FileKeyRefError(
      `${field}.key`,
      ref.key,
      `environment variable key "${ref.key}" not found in file "${path}"`,
    );
  }
  return value;
}
