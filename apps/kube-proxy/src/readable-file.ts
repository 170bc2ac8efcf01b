import { KubeProxyError } from '@nodeagent/kube-proxy';
import { systemReason } from '@nodeagent/primitives';

/** A file a flag names cannot be read: one line naming the flag, the path and the system's reason. */
export class UnreadableFileError extends KubeProxyError {
  constructor(
    readonly flag: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super('UNREADABLE_FILE', `${flag}: cannot read ${JSON.stringify(path)}: ${reason}`);
  }
}

/** Reads the file `flag` names, or throws UnreadableFileError. */
export function readableFile(flag: string, path: string, read: (path: string) => string): string {
  try {
    return read(path);
  } catch (err) {
    throw new UnreadableFileError(flag, path, systemReason(err));
  }
}
