import { parseQuantity } from '@nodeagent/primitives';
import { KubeletError } from '../errors';

/** A container log rotation setting the log manager cannot run with. */
export class LogRotationConfigError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('LOG_ROTATION_CONFIG', field, value, reason);
  }
}

/**
 * Upstream's LogRotatePolicy: rotate a running container's log once it reaches `maxSize` bytes,
 * keeping at most `maxFiles` files per container (current, newest rotated, older ones gzipped).
 */
export interface LogRotatePolicy {
  /** Bytes; negative disables rotation (upstream then runs a stub manager). */
  maxSize: number;
  maxFiles: number;
}

/** containerLogMaxSize / containerLogMaxFiles as upstream's NewContainerLogManager checks them. */
export function logRotatePolicy(maxSize: string, maxFiles: number): LogRotatePolicy {
  if (!Number.isInteger(maxFiles) || maxFiles <= 1)
    throw new LogRotationConfigError(
      'containerLogMaxFiles',
      maxFiles,
      `invalid MaxFiles ${maxFiles}, must be > 1`,
    );
  let bytes: number;
  try {
    bytes = parseQuantity(maxSize, 'containerLogMaxSize');
  } catch (error) {
    throw new LogRotationConfigError(
      'containerLogMaxSize',
      maxSize,
      `failed to parse container log max size ${JSON.stringify(maxSize)}: ${(error as Error).message}`,
    );
  }
  if (!Number.isSafeInteger(bytes))
    throw new LogRotationConfigError('containerLogMaxSize', maxSize, 'invalid max log size');
  return { maxSize: bytes, maxFiles };
}
