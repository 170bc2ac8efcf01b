/** /proc/sys of the network namespace the proxier programs. */
export interface SysctlLayer {
  /** Current values of the keys that exist (dotted keys, as `sysctl` names them). */
  get(keys: readonly string[]): Promise<Map<string, string>>;
  /** Writes the values in order; a write the kernel refuses rejects the promise. */
  set(values: readonly (readonly [string, string])[]): Promise<void>;
}
