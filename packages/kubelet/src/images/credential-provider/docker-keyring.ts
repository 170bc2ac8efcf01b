import type { CredentialSource } from '../credential-source';
import { parseSchemelessURL, type SchemelessURL, urlsMatchStr } from './image-url-match';

/** One registry credential as a docker config or a credential provider names it. */
export interface RegistryCredential {
  username: string;
  password: string;
  /** The pull secret or service account it came from, kept for verified pulls (KEP-2535). */
  source?: CredentialSource;
}

/** Upstream DockerConfig: registry globs ("*.registry.io/team") to credentials. */
export type DockerConfig = Record<string, RegistryCredential>;

const defaultRegistryHost = 'index.docker.io';

/**
 * Upstream isDefaultRegistryMatch: whether `image` is pulled from Docker Hub (no registry part,
 * or docker.io / index.docker.io, or a first part without "." or ":").
 */
function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first.length === 0) return false;
  if (slash < 0) return true;
  if (first === 'docker.io' || first === defaultRegistryHost) return true;
  return !/[.:]/.test(first);
}

/**
 * Upstream BasicDockerKeyring: docker config entries indexed by "host[/path]" (scheme and a
 * leading /v1/ or /v2/ dropped), looked up most specific first: the index is reverse-sorted, so
 * "registry.io/team" comes before "registry.io". Every matching entry is returned, in that order,
 * for the kubelet to try one after another.
 */
export class DockerKeyring {
  private readonly creds = new Map<string, RegistryCredential[]>();
  private index: string[] = [];

  add(config: DockerConfig): void {
    for (const [location, credential] of Object.entries(config)) {
      let parsed: SchemelessURL;
      try {
        parsed = parseSchemelessURL(location.replace(/^https?:\/\//, ''));
      } catch {
        // Upstream logs the entry as invalid and ignores it.
        continue;
      }
      let path = parsed.path;
      if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
      const key = path.length > 0 && path !== '/' ? parsed.host + path : parsed.host;
      const list = this.creds.get(key) ?? [];
      const entry: RegistryCredential = { username: credential.username, password: credential.password };
      if (credential.source) entry.source = credential.source;
      list.push(entry);
      this.creds.set(key, list);
    }
    this.index = [...this.creds.keys()].sort().reverse();
  }

  lookup(image: string): RegistryCredential[] {
    const out: RegistryCredential[] = [];
    for (const key of this.index) if (urlsMatchStr(key, image)) out.push(...this.creds.get(key)!);
    if (out.length > 0) return out;
    if (isDefaultRegistryMatch(image)) return [...(this.creds.get(defaultRegistryHost) ?? [])];
    return [];
  }
}

/**
 * Upstream parsers.ParseImageName's repository: the image the keyring and the credential
 * providers are asked about ("busybox:1.36" -> "docker.io/library/busybox"), without tag or digest.
 */
export function repositoryToPull(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    const path = slash < 0 ? `library/${name}` : name;
    return `docker.io/${path}`;
  }
  if (first === defaultRegistryHost) return `docker.io/${name.slice(slash + 1)}`;
  return name;
}
