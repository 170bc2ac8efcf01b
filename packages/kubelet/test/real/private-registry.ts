import { fileURLToPath } from 'node:url';
import type { PrivateContainerd } from './private-containerd';

/** A registry user (htpasswd basic auth). */
export interface RegistryUser {
  username: string;
  password: string;
}

/** The part of tools/registry's RunningRegistry these tests use. */
export interface PrivateRegistry {
  /** `127.0.0.1:<port>`, reachable from the private containerd's network namespace only. */
  host: string;
  push(
    archive: string,
    options: { repository: string; tag: string; labels?: Record<string, string> },
    user: RegistryUser,
  ): Promise<{ manifestDigest: string; id: string }>;
  stop(): Promise<void>;
}

// Loaded by path so this package's typecheck does not pull in the tools project.
const toolsRegistry = fileURLToPath(new URL('../../../../tools/registry/registry.ts', import.meta.url));
const toolsContainerd = fileURLToPath(new URL('../../../../tools/containerd/containerd.ts', import.meta.url));

/**
 * A docker-registry with basic auth for `users`, on loopback in the private containerd's network
 * namespace (its files under containerd's baseDir, so a swept containerd takes it along), and
 * containerd told to pull from it over plain HTTP.
 */
export async function startPrivateRegistry(
  containerd: PrivateContainerd,
  users: RegistryUser[],
): Promise<PrivateRegistry> {
  const registryMod = (await import(toolsRegistry)) as {
    startRegistry: (o: {
      users: RegistryUser[];
      netnsPath: string;
      baseDir: string;
    }) => Promise<PrivateRegistry>;
  };
  const containerdMod = (await import(toolsContainerd)) as {
    allowPlainHttpRegistry: (baseDir: string, host: string) => Promise<void>;
  };
  const registry = await registryMod.startRegistry({
    users,
    netnsPath: containerd.netnsPath,
    baseDir: `${containerd.baseDir}/registry`,
  });
  await containerdMod.allowPlainHttpRegistry(containerd.baseDir, registry.host);
  return registry;
}
