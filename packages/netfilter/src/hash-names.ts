import { createHash } from 'node:crypto';
import { base32 } from '@nodeagent/primitives';

// RFC 4648 base32 is defined in primitives; it stays exported here for this package's callers.
export { base32 };

/** base32(SHA-256(text)), the hash both kube-proxy modes build chain names from. */
export function sha256Base32(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest());
}
