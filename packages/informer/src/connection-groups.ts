import type { KubeConfig } from '@kubernetes/client-node';

/** The KubeConfigs whose requests keep to connections of their own, each with its group's name. */
const groups = new WeakMap<KubeConfig, string>();
let made = 0;

/**
 * Gives the requests of `kubeConfig`, and of every view made from it with Object.create (the
 * kubelet's heartbeat and event clients), HTTP/2 connections of their own. Without it every
 * KubeConfig with the same server and TLS material shares one, as client-go's transport cache
 * shares one among a process's clients; a process that stands in for many machines (hollow
 * nodes, each a view of one kubeconfig) calls it on each machine's view so that the API server
 * sees a connection per machine, as it would.
 */
export function separateConnections(kubeConfig: KubeConfig): void {
  groups.set(kubeConfig, `group-${++made}`);
}

/** The group `kubeConfig`'s requests belong to: the nearest one set on it or what it was made from. */
export function connectionGroupOf(kubeConfig: KubeConfig): string {
  for (let o: object | null = kubeConfig; o !== null; o = Object.getPrototypeOf(o)) {
    const group = groups.get(o as KubeConfig);
    if (group !== undefined) return group;
  }
  return '';
}
