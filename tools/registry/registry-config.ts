/** Where one private registry keeps everything: all of it lives under `baseDir`. */
export interface RegistryPaths {
  baseDir: string;
  configFile: string;
  storageDir: string;
  htpasswdFile: string;
  logFile: string;
}

export function registryPaths(baseDir: string): RegistryPaths {
  return {
    baseDir,
    configFile: `${baseDir}/config.yml`,
    storageDir: `${baseDir}/storage`,
    htpasswdFile: `${baseDir}/htpasswd`,
    logFile: `${baseDir}/registry.log`,
  };
}

export interface RegistryConfigInput {
  paths: RegistryPaths;
  /** Realm named in the registry's `WWW-Authenticate: Basic realm="…"` challenge. */
  realm: string;
  logLevel: string;
}

/**
 * distribution (docker-registry 2.8) config. Listens on 127.0.0.1:0 so the kernel picks a free
 * port in the namespace (the registry logs `listening on 127.0.0.1:<port>`, which is how the
 * starter learns it); plain HTTP, htpasswd basic auth, filesystem storage under baseDir, deletes
 * allowed so a test can remove what it pushed.
 */
export function renderRegistryConfig(c: RegistryConfigInput): string {
  const q = (s: string) => JSON.stringify(s);
  return `version: 0.1
log:
  level: ${c.logLevel}
  formatter: text
storage:
  filesystem:
    rootdirectory: ${q(c.paths.storageDir)}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: ${q(c.realm)}
    path: ${q(c.paths.htpasswdFile)}
`;
}

/** The `listening on 127.0.0.1:<port>` line of the registry's log, as a port number. */
export function listeningPort(log: string): number | undefined {
  const m = /listening on (?:127\.0\.0\.1|\[::\]|0\.0\.0\.0):(\d+)/.exec(log);
  return m?.[1] ? Number(m[1]) : undefined;
}
