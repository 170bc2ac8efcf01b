import type { KubeletLogger } from '../../src/kubelet-logger';

/** One line a {@link recordingLogger} took: its message and fields, whatever the level. */
export interface LoggedLine {
  msg?: string;
  obj: Record<string, unknown>;
}

/** A KubeletLogger that appends every line, at any level, to `lines`. */
export function recordingLogger(lines: LoggedLine[]): KubeletLogger {
  const push = (obj: object, msg?: string) => lines.push({ obj: obj as Record<string, unknown>, msg });
  return { info: push, warn: push, error: push };
}
