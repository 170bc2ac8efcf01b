export declare const KUBERNETES_VERSION: string;
export interface SeaTarget {
  name: string;
  appDir: string;
  entry: string;
}
export declare function seaTargets(): SeaTarget[];
