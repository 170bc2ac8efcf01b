import { KubeProxyError } from '@nodeagent/kube-proxy';

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

/** Node's "ENOENT: no such file or directory, open '/x'" → "no such file or directory". */
function systemReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = String(e?.message ?? err);
  const m = /^[A-Z]+: ([^,]+)/.exec(text);
  return m ? m[1]! : text.split('\n')[0]!;
}

/** Reads the file `flag` names, or throws UnreadableFileError. */
export function readableFile(flag: string, path: string, read: (path: string) => string): string {
  try {
    return read(path);
  } catch (err) {
    throw new UnreadableFileError(flag, path, systemReason(err));
  }
}
