export declare const KUBERNETES_VERSION: string;
export interface SeaTarget {
  name: string;
  appDir: string;
  entry: string;
  /** Bundle the entry through a static import (tree-shaken) rather than require(). */
  importEntry: boolean;
}
export declare function seaTargets(): SeaTarget[];
