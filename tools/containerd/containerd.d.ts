import { type LocalImages } from '../images/build-images';
export interface StartContainerdOptions {
  /** Build the local pause + busybox images and import them (default true). */
  images?: boolean;
  /** Pod CIDR for the CNI bridge; default a random 10.x.y.0/24. */
  podSubnet?: string;
  /** containerd log level (default "info"); the log is `<baseDir>/containerd.log`. */
  logLevel?: string;
  /** How long to wait for the socket to answer (default 20 s). */
  startTimeoutMs?: number;
  /** CNI plugin directory (default /usr/lib/cni, Debian's containernetworking-plugins). */
  cniBinDir?: string;
  /** Keep containerd running after this Node process exits (the CLI uses this). */
  detached?: boolean;
}
/** What `stop()` needs; also written to `<baseDir>/instance.json` for the CLI's `stop`. */
export interface ContainerdInstanceInfo {
  /** gRPC target for CRI clients: `unix://<socketPath>`. */
  endpoint: string;
  socketPath: string;
  /** Name of the network namespace containerd runs in (`ip netns` name). */
  netns: string;
  netnsPath: string;
  /** Temp dir holding root, state, socket, CNI config and the log. */
  baseDir: string;
  root: string;
  state: string;
  logFile: string;
  podSubnet: string;
  pid: number;
  /** Set when images were imported. */
  images?: LocalImages;
}
export interface RunningContainerd extends ContainerdInstanceInfo {
  /** Kill everything this containerd started, unmount, delete the netns and the temp dir. Idempotent. */
  stop(): Promise<void>;
}
export declare class ContainerdStartError extends Error {
  readonly logTail: string;
  readonly code = 'CONTAINERD_START_FAILED';
  constructor(message: string, logTail: string);
}
/**
 * Start a private containerd (root, state, socket, CNI config and pod subnet all unique to this
 * call) inside a fresh network namespace, and optionally import the local pause/busybox images.
 * The CRI plugin's sandbox_image is the local pause image, so nothing is ever pulled.
 */
export declare function startContainerd(opts?: StartContainerdOptions): Promise<RunningContainerd>;
/**
 * Tear down a private containerd from its recorded info: kill its tasks, stop containerd, kill
 * anything left in its namespaces (shims, containers), unmount what it mounted under its temp dir,
 * and delete the netns and the temp dir. Safe to call on a half-started instance.
 */
export declare function stopContainerdInstance(info: ContainerdInstanceInfo): Promise<void>;
/** Read `<baseDir>/instance.json` written by startContainerd. */
export declare function readInstanceInfo(baseDir: string): Promise<ContainerdInstanceInfo>;
//# sourceMappingURL=containerd.d.ts.map
