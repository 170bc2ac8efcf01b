import type { CriClient } from '@nodeagent/cri-client';

/**
 * The same CRI client, except that each StartContainer that succeeds also calls
 * `onStarted(containerId)`. The binary gives the container log manager's
 * {@link ContainerLogManager.containerStarted} this way, so a fast writer's log is watched from
 * its first byte instead of from the manager's next discovery pass (up to a second later, in
 * which ~100 MiB can be written). Every other call goes straight to `client`.
 */
export function reportingContainerStarts<T extends Pick<CriClient, 'startContainer'>>(
  client: T,
  onStarted: (containerId: string) => void,
): T {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'startContainer') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      const start: CriClient['startContainer'] = async (request, options) => {
        const answer = await target.startContainer(request, options);
        if (request.containerId) onStarted(request.containerId);
        return answer;
      };
      return start;
    },
  });
}
