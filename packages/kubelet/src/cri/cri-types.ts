/**
 * The CRI runtime.v1 request messages this package builds, in the field names and enum numbers of
 * the proto (as @nodeagent/cri-client encodes them). Only the fields the kubelet sets; int64
 * fields are plain numbers.
 */

export const Protocol = { TCP: 0, UDP: 1, SCTP: 2 } as const;
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

export const NamespaceMode = { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } as const;
export type NamespaceMode = (typeof NamespaceMode)[keyof typeof NamespaceMode];

export const MountPropagation = {
  PROPAGATION_PRIVATE: 0,
  PROPAGATION_HOST_TO_CONTAINER: 1,
  PROPAGATION_BIDIRECTIONAL: 2,
} as const;
export type MountPropagation = (typeof MountPropagation)[keyof typeof MountPropagation];

export interface CriDNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface CriPortMapping {
  protocol: Protocol;
  containerPort: number;
  hostPort: number;
  hostIp: string;
}

export interface CriNamespaceOption {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  targetId?: string;
}

export interface CriLinuxContainerResources {
  cpuPeriod: number;
  cpuQuota: number;
  cpuShares: number;
  memoryLimitInBytes: number;
  oomScoreAdj: number;
  unified?: Record<string, string>;
}

export interface CriPodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt: number };
  hostname: string;
  logDirectory: string;
  dnsConfig: CriDNSConfig | null;
  portMappings: CriPortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroupParent: string;
    securityContext: {
      namespaceOptions: CriNamespaceOption;
      runAsUser?: { value: number } | null;
      runAsGroup?: { value: number } | null;
      supplementalGroups: number[];
      privileged: boolean;
      readonlyRootfs?: boolean;
    };
    sysctls: Record<string, string>;
  };
}

export interface CriMount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  selinuxRelabel?: boolean;
  propagation: MountPropagation;
}

export interface CriContainerConfig {
  metadata: { name: string; attempt: number };
  image: { image: string; userSpecifiedImage?: string; annotations?: Record<string, string> };
  command: string[];
  args: string[];
  workingDir: string;
  envs: { key: string; value: string }[];
  mounts: CriMount[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  linux: {
    resources: CriLinuxContainerResources;
    securityContext: {
      capabilities: { addCapabilities: string[]; dropCapabilities: string[] } | null;
      privileged: boolean;
      namespaceOptions: CriNamespaceOption;
      runAsUser?: { value: number } | null;
      runAsGroup?: { value: number } | null;
      readonlyRootfs: boolean;
      supplementalGroups: number[];
      noNewPrivs: boolean;
      maskedPaths: string[];
      readonlyPaths: string[];
    };
  };
}
