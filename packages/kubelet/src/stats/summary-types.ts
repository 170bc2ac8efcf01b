/**
 * The kubelet's /stats/summary document (upstream k8s.io/kubelet/pkg/apis/stats/v1alpha1), with
 * the same JSON field names. Times are RFC 3339 strings; byte and nanosecond figures are numbers
 * (they fit a double's 53 bits for anything a node holds).
 */

/** CPU use of a node, pod or container at `time` (upstream CPUStats). */
export interface CPUStats {
  time: string;
  /** Average over the last sampling interval, in billionths of a core. */
  usageNanoCores?: number;
  /** Cumulative CPU time since the object was created. */
  usageCoreNanoSeconds?: number;
  /** CPU pressure stall information (cgroup v2 cpu.pressure). */
  psi?: PSIStats;
}

/** One line of a cgroup v2 *.pressure file (upstream PSIData): averages in percent, total in microseconds. */
export interface PSIData {
  total: number;
  avg10: number;
  avg60: number;
  avg300: number;
}

/** A resource's pressure stall information (upstream PSIStats): all tasks stalled, some stalled. */
export interface PSIStats {
  full: PSIData;
  some: PSIData;
}

/** I/O of a node, pod or container at `time` (upstream IOStats): its pressure stall information. */
export interface IOStats {
  time: string;
  psi?: PSIStats;
}

/** Memory use of a node, pod or container at `time`, in bytes (upstream MemoryStats). */
export interface MemoryStats {
  time: string;
  /** Capacity minus working set; what eviction's memory.available signal is. */
  availableBytes?: number;
  usageBytes?: number;
  /** Usage minus inactive file pages. */
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
  /** Memory pressure stall information (cgroup v2 memory.pressure). */
  psi?: PSIStats;
}

/** Swap use of a node, pod or container at `time`, in bytes (upstream SwapStats). */
export interface SwapStats {
  time: string;
  /** What is left: the swap limit (node: swap capacity) minus usage; absent when unlimited. */
  swapAvailableBytes?: number;
  swapUsageBytes?: number;
}

/** One network interface's cumulative byte and error counters (upstream InterfaceStats). */
export interface InterfaceStats {
  name: string;
  rxBytes?: number;
  rxErrors?: number;
  txBytes?: number;
  txErrors?: number;
}

/** The default interface's figures inline, every interface in `interfaces`. */
export interface NetworkStats extends InterfaceStats {
  time: string;
  interfaces?: InterfaceStats[];
}

/** A filesystem's size and use at `time`, in bytes and inodes (upstream FsStats). */
export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** The container runtime's filesystems (upstream RuntimeStats). */
export interface RuntimeStats {
  /** The filesystem the runtime keeps images on (eviction's imagefs). */
  imageFs?: FsStats;
  /** Where writable layers live, when that is not the image filesystem. */
  containerFs?: FsStats;
}

/** Process-ID limits of the node, the input of eviction's pid.available signal (upstream RlimitStats). */
export interface RlimitStats {
  time: string;
  /** min(kernel.pid_max, kernel.threads-max). */
  maxpid?: number;
  /** Tasks that exist now (eviction's pid.available is maxpid − curproc). */
  curproc?: number;
}

/** The node as a whole: its CPU, memory, network, filesystems and pid limits (upstream NodeStats). */
export interface NodeStats {
  nodeName: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  /** The node's swap (/proc/meminfo SwapTotal − SwapFree used, SwapFree available). */
  swap?: SwapStats;
  /** The node's I/O pressure (the cgroup v2 root's io.pressure). */
  io?: IOStats;
  network?: NetworkStats;
  /** The filesystem of the kubelet's root dir (eviction's nodefs). */
  fs?: FsStats;
  runtime?: RuntimeStats;
  rlimit?: RlimitStats;
}

/** Which pod a {@link PodStats} entry is about. */
export interface PodReference {
  name: string;
  namespace: string;
  uid: string;
}

/** One container of a pod (upstream ContainerStats); `name` is the container's name in the pod spec. */
export interface ContainerStats {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  /** The container's swap, when the runtime reports it. */
  swap?: SwapStats;
  /** The container's I/O pressure (cgroup v2 io.pressure), when its cgroup is known. */
  io?: IOStats;
  /** The container's writable layer. */
  rootfs?: FsStats;
  /** The container's log files. */
  logs?: FsStats;
}

/** Use of one pod volume, named as in the pod spec (upstream VolumeStats). */
export interface VolumeStats extends FsStats {
  name: string;
  /** The claim a persistent volume comes from (upstream PVCReference). */
  pvcRef?: { name: string; namespace: string };
  /** The driver's VolumeCondition (with the CSIVolumeHealth gate). */
  volumeHealthStats?: { abnormal: boolean };
}

/** How many processes a pod runs (upstream ProcessStats; the JSON name keeps its underscore). */
export interface ProcessStats {
  process_count?: number;
}

/** One pod: its containers, volumes, ephemeral storage and totals (upstream PodStats). */
export interface PodStats {
  podRef: PodReference;
  startTime: string;
  containers: ContainerStats[];
  cpu?: CPUStats;
  memory?: MemoryStats;
  /** The pod's swap, when known. */
  swap?: SwapStats;
  /** The pod's I/O pressure (cgroup v2 io.pressure), when its cgroup is known. */
  io?: IOStats;
  network?: NetworkStats;
  volume?: VolumeStats[];
  /** Writable layers, logs and local volumes of the pod together. */
  'ephemeral-storage'?: FsStats;
  process_stats?: ProcessStats;
}

/** The whole /stats/summary response: the node and every pod the kubelet runs (upstream Summary). */
export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}
