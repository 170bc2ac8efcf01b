export interface V8FlagsAfterStartOptions {
  /** Sets one V8 flag (v8.setFlagsFromString). */
  setFlags?: (flag: string) => void;
}
/** Sets each of `flags` when the app emits 'nodeagent:started' on process, once. */
export declare function setV8FlagsAfterStart(
  flags: readonly string[],
  options?: V8FlagsAfterStartOptions,
): void;
