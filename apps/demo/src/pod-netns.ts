import { execFile } from 'node:child_process';
import { DemoError } from './errors';

/**
 * The network namespace of a running container, as a path `nsenter --net=` takes: a request sent
 * from there leaves from the pod's own address, as one the pod's process makes would. Found from
 * the container's task PID (`ctr tasks ls` on the node's containerd), since containerd keeps pod
 * namespaces under its own state dir with names the API does not show.
 */
export async function containerNetnsPath(criEndpoint: string, containerID: string): Promise<string> {
  const socket = criEndpoint.replace(/^unix:\/\//, '');
  const id = containerID.replace(/^[a-z]+:\/\//, '');
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      'ctr',
      ['--address', socket, '-n', 'k8s.io', 'tasks', 'ls'],
      { timeout: 15_000 },
      (error, out, stderr) => (error ? reject(new Error(stderr.trim() || error.message)) : resolve(out)),
    ),
  );
  const pid = taskPid(stdout, id);
  if (pid === undefined)
    throw new DemoError('NO_SUCH_TASK', 'containerID', containerID, `has no running task on ${socket}`);
  return `/proc/${pid}/ns/net`;
}

/** The PID column of `ctr tasks ls` for task `id` (header "TASK PID STATUS"). */
export function taskPid(ctrTasksLs: string, id: string): number | undefined {
  for (const line of ctrTasksLs.split('\n').slice(1)) {
    const [task, pid, status] = line.trim().split(/\s+/);
    if (task === id && status === 'RUNNING' && pid && /^\d+$/.test(pid)) return Number(pid);
  }
  return undefined;
}
