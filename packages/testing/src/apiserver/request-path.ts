import { findResourceType, type ResourceType } from './resource-types';

/** A resource request URL, decomposed the way the real server's request info resolver does. */
export interface ResourcePath {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Parse `/api/v1/...` or `/apis/<group>/<version>/...`; undefined when not a resource URL. */
export function parseResourcePath(pathname: string): ResourcePath | 'unknown' | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p.length > 0)
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const rt = findResourceType(group, version, rest[2] as string);
    if (!rt?.namespaced || rest.length > 5) return 'unknown';
    const out: ResourcePath = { rt, namespace: rest[1] as string };
    if (rest[3] !== undefined) out.name = rest[3];
    if (rest[4] !== undefined) out.subresource = rest[4];
    return out;
  }
  const rt = findResourceType(group, version, rest[0] as string);
  if (!rt || rest.length > 3) return 'unknown';
  // Namespaced resources listed across all namespaces have no namespace segment.
  const out: ResourcePath = { rt };
  if (rest[1] !== undefined) out.name = rest[1];
  if (rest[2] !== undefined) out.subresource = rest[2];
  if (rt.namespaced && out.name !== undefined) return 'unknown';
  return out;
}
