/** Go's text for the errno codes volume set-up and removal meet (upstream's messages carry Go's). */
const GO_ERRNO: Record<string, string> = {
  ENOTEMPTY: 'directory not empty',
  EBUSY: 'device or resource busy',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  ENOENT: 'no such file or directory',
  EROFS: 'read-only file system',
};

/** A filesystem error as Go prints its errno (`directory not empty`), else its own message. */
export function goErrnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && GO_ERRNO[code]) ?? (error as Error).message;
}
