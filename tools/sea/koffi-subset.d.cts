/** The C signatures an executable can bind. */
export declare const SIGNATURES: string[];
/** koffi's face over the loaded libc-calls addon. */
export declare function koffiSubset(addon: unknown): {
  load(path: string): { func(signature: string): (...args: never[]) => unknown };
  alloc(type: string, length: number): ArrayBuffer;
  view(pointer: ArrayBuffer, length: number): ArrayBuffer;
  address(pointer: ArrayBuffer): bigint;
  free(pointer: unknown): void;
  errno(): number;
};
