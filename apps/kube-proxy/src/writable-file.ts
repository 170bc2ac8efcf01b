import { writeFileSync } from 'node:fs';
import { KubeProxyError } from '@nodeagent/kube-proxy';
import { systemReason } from '@nodeagent/primitives';

/** A file a flag names cannot be written: one line naming the flag, the path and the system's reason. */
export class UnwritableFileError extends KubeProxyError {
  constructor(
    readonly flag: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super('UNWRITABLE_FILE', `${flag}: cannot write ${JSON.stringify(path)}: ${reason}`);
  }
}

/** Writes the file `flag` names (--write-config-to), or throws UnwritableFileError. */
export function writeFileFor(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw new UnwritableFileError(flag, path, systemReason(err));
  }
}
