import type { ApiServer, KubeObject } from '@nodeagent/testing';

/**
 * What a scenario needs from the multi-node box: the API (read and write, as a client would),
 * and per node its CRI runtime, its agents (stop/start) and a way to send HTTP from inside the
 * node's network namespace. The box implements it; the unit tests implement it with scripted
 * state, so the observer is the same code in both.
 */
export interface ScenarioBox {
  api: ClusterApi;
  nodes: ScenarioNode[];
  /** Namespace of the workload (the ReplicaSet and Services the scenarios use). */
  namespace: string;
}

export interface ClusterApi {
  list(apiVersion: string, plural: string, namespace?: string): KubeObject[];
  get(
    apiVersion: string,
    plural: string,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined;
  create(apiVersion: string, plural: string, namespace: string | undefined, object: KubeObject): KubeObject;
  /** A graceful delete (deletionTimestamp set; the kubelet confirms), as kubectl delete does. */
  delete(apiVersion: string, plural: string, namespace: string | undefined, name: string): void;
}

/** A container as the node's runtime reports it (CRI ListContainers). */
export interface RuntimeContainer {
  id: string;
  /** Container name in the pod (CRI metadata.name). */
  name: string;
  /** Restart attempt (CRI metadata.attempt): a restart creates attempt + 1. */
  attempt: number;
  podName: string;
  podNamespace: string;
  podUid: string;
  state: 'created' | 'running' | 'exited' | 'unknown';
}

export interface ScenarioRuntime {
  listContainers(): Promise<RuntimeContainer[]>;
  /** Makes the container's process exit (SIGKILL of its main process), as a crash would. */
  killContainer(id: string): Promise<void>;
}

export interface ScenarioNode {
  name: string;
  runtime: ScenarioRuntime;
  /** SIGTERM to the agent's process (SIGKILL after a grace): the process is gone, nothing else changes. */
  stopKubelet(): Promise<{ pid: number }>;
  startKubelet(): Promise<{ pid: number }>;
  stopKubeProxy(): Promise<{ pid: number }>;
  startKubeProxy(): Promise<{ pid: number }>;
  /**
   * Why the agent started last by startKubelet/startKubeProxy is no longer running (e.g. "exited
   * with code 1, log: …"), undefined while it runs: a wait for its effect then ends at once.
   */
  agentExited?(agent: 'kubelet' | 'kube-proxy'): string | undefined;
  /** HTTP GET from inside the node's network namespace: the body, or a rejection. */
  fetch(url: string): Promise<string>;
}

/** Time and waiting, injected so unit tests script the world without wall-clock races. */
export interface ScenarioClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: ScenarioClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The in-process API server's registry as a ClusterApi (same validation and defaulting as HTTP). */
export function registryApi(server: ApiServer): ClusterApi {
  const rt = (apiVersion: string, plural: string) => server.resource(apiVersion, plural);
  return {
    list: (apiVersion, plural, namespace) => server.registry.list(rt(apiVersion, plural), namespace),
    get: (apiVersion, plural, namespace, name) =>
      server.registry.find(rt(apiVersion, plural), namespace, name),
    create: (apiVersion, plural, namespace, object) =>
      server.registry.create(rt(apiVersion, plural), namespace, object),
    delete: (apiVersion, plural, namespace, name) => {
      server.registry.delete(rt(apiVersion, plural), namespace, name);
    },
  };
}
