import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { DemoError } from '../errors';
import type { RuntimeContainer, ScenarioRuntime } from './scenario-box';

/** CRI runtime.v1 ContainerState: CONTAINER_CREATED 0, RUNNING 1, EXITED 2, UNKNOWN 3. */
const states: Record<number, RuntimeContainer['state']> = {
  0: 'created',
  1: 'running',
  2: 'exited',
  3: 'unknown',
};

/** The container's main process as containerd's verbose ContainerStatus reports it (info.info.pid). */
async function containerPid(cri: CriClient, id: string): Promise<number> {
  const status = await cri.containerStatus({ containerId: id, verbose: true });
  const info = status.info.info;
  const pid = info ? (JSON.parse(info) as { pid?: number }).pid : undefined;
  if (!pid || pid <= 0) {
    throw new DemoError(
      'NO_CONTAINER_PID',
      'containerId',
      id,
      'the runtime reports no process for this container',
    );
  }
  return pid;
}

/**
 * A node's runtime seen through CRI, as `crictl ps -a` sees it. Killing a container SIGKILLs its
 * main process (a crash, not a CRI StopContainer: nothing on the node asked for it), unless
 * `kill` is given (the fake runtime has no processes).
 */
export async function criScenarioRuntime(
  endpoint: string,
  kill?: (containerId: string) => Promise<void> | void,
): Promise<ScenarioRuntime & { close(): void }> {
  const cri = await createCriClient({ endpoint });
  return {
    async listContainers() {
      const { containers } = await cri.listContainers();
      return containers.map((c) => ({
        id: c.id,
        name: c.metadata?.name ?? '',
        attempt: c.metadata?.attempt ?? 0,
        podName: c.labels['io.kubernetes.pod.name'] ?? '',
        podNamespace: c.labels['io.kubernetes.pod.namespace'] ?? '',
        podUid: c.labels['io.kubernetes.pod.uid'] ?? '',
        state: states[c.state] ?? 'unknown',
      }));
    },
    async killContainer(id) {
      if (kill) return void (await kill(id));
      process.kill(await containerPid(cri, id), 'SIGKILL');
    },
    close: () => cri.close(),
  };
}
