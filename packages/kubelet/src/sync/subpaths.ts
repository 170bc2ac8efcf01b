import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Container } from '../api/pod-types';
import type { MountedVolume } from '../cri/container-config';
import { expandVars } from '../env/expand-vars';
import type { EnvVarValue } from '../env/resolve-env';
import { CreateContainerConfigError } from '../errors';

/**
 * Upstream ExpandContainerVolumeMounts: $(VAR) in subPathExpr from the container's environment;
 * a variable that is missing or empty fails the container ("missing value for A, B").
 */
export function expandSubPathExpr(expr: string, env: readonly EnvVarValue[], field: string): string {
  const values = new Map(env.map((e) => [e.key, e.value]));
  const missing = new Set<string>();
  const expanded = expandVars(expr, (name) => {
    const value = values.get(name);
    if (!value) missing.add(name);
    return value ?? '';
  });
  if (missing.size > 0)
    throw new CreateContainerConfigError(field, expr, `missing value for ${[...missing].sort().join(', ')}`);
  return expanded;
}

/**
 * Upstream makeMounts' subPath handling, for each of a container's volumeMounts (index-aligned,
 * undefined where there is no subPath): subPathExpr expanded, then refused when absolute or with
 * a `..` component (CreateContainerConfigError), and the directory created inside the volume
 * with the volume root's mode when missing, so the bind mount has a source and the container
 * can write there.
 */
export async function prepareSubPaths(
  container: Container,
  env: readonly EnvVarValue[],
  volumes: ReadonlyMap<string, MountedVolume>,
): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  for (const [index, mount] of (container.volumeMounts ?? []).entries()) {
    const field = `volumeMounts[${index}]`;
    const subPath = mount.subPathExpr
      ? expandSubPathExpr(mount.subPathExpr, env, `${field}.subPathExpr`)
      : mount.subPath;
    out.push(subPath || undefined);
    if (!subPath) continue;
    if (subPath.startsWith('/'))
      throw new CreateContainerConfigError(
        `${field}.subPath`,
        subPath,
        `error SubPath \`${subPath}\` must not be an absolute path`,
      );
    if (subPath.split('/').includes('..'))
      throw new CreateContainerConfigError(
        `${field}.subPath`,
        subPath,
        `unable to provision SubPath \`${subPath}\`: must not contain '..'`,
      );
    const volume = volumes.get(mount.name);
    if (!volume) continue; // buildContainerConfig reports the missing volume
    const target = join(volume.hostPath, subPath);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const mode = (await stat(volume.hostPath)).mode & 0o7777;
      const first = await mkdir(target, { recursive: true, mode });
      // mkdir's mode goes through the umask: give every directory it made the volume's mode.
      for (let dir = target; first && dir.length >= first.length; dir = dirname(dir)) await chmod(dir, mode);
    }
  }
  return out;
}
