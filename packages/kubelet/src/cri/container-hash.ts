import type { Container } from '../api/pod-types';

/**
 * A hash of the parts of a container spec whose change requires a restart, stored on the runtime
 * container as io.kubernetes.container.hash. Like upstream, resources are left out (they can be
 * resized in place) and the hash is FNV-32a over a canonical encoding, rendered in hex.
 */
export function containerHash(container: Container): string {
  const { resources: _resources, ...rest } = container;
  return fnv32a(canonicalJson(rest)).toString(16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
