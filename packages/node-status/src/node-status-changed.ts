import type { V1NodeStatus } from '@kubernetes/client-node';
import { parseQuantity, type Wire } from '@nodeagent/primitives';
import { formatTime, type NodeStatusWire } from './node-status-body';
import type { NodeRuntimeHandlerWire } from './runtime-handlers';

/** A Node status as read back from the API server (plain JSON: times are strings), if any. */
export type ServerStatus = Wire<V1NodeStatus> | undefined;

/**
 * Whether the API server's copy of the status differs from what the kubelet would send, like
 * upstream's nodeStatusHasChanged: conditions are compared without their heartbeat times,
 * everything else as it is. Only the fields this kubelet sends are compared, so conditions and
 * nodeInfo fields other components write (NetworkUnavailable, ...) never force a patch.
 * Quantities compare by value because an API server may print them in another canonical form.
 */
export function nodeStatusHasChanged(server: ServerStatus, status: NodeStatusWire): boolean {
  if (!server) return true;
  return (
    conditionsChanged(server.conditions, status.conditions) ||
    resourcesChanged(server.capacity, status.capacity) ||
    resourcesChanged(server.allocatable, status.allocatable) ||
    addressesChanged(server.addresses, status.addresses) ||
    wirePort(server) !== status.daemonEndpoints.kubeletEndpoint.Port ||
    nodeInfoChanged(server.nodeInfo, status.nodeInfo) ||
    imagesChanged(server.images, status.images) ||
    declaredFeaturesChanged(server, status.declaredFeatures) ||
    runtimeStatusChanged(server, status) ||
    volumesInUseChanged(server, status.volumesInUse)
  );
}

/**
 * Whether the server's volumesInUse differs from the kubelet's (both sorted). A status without
 * the field says none are in use; the reporter sends `[]` to clear a list the server still has.
 */
function volumesInUseChanged(server: NonNullable<ServerStatus>, ours: string[] | undefined): boolean {
  const have = server.volumesInUse ?? [];
  const want = ours ?? [];
  return have.length !== want.length || have.some((name, i) => name !== want[i]);
}

/**
 * Whether the server lacks the declared features this kubelet sends (in order: both sides are
 * sorted). Only compared when there are some to send: a patch without the field could not
 * remove the server's list anyway.
 */
function declaredFeaturesChanged(server: NonNullable<ServerStatus>, ours: string[] | undefined): boolean {
  if (!ours?.length) return false;
  const have = (server as { declaredFeatures?: string[] }).declaredFeatures ?? [];
  return have.length !== ours.length || have.some((name, i) => name !== ours[i]);
}

/**
 * Whether the server lacks the runtime handlers or features this kubelet sends. Like the
 * declared features, only compared when there are some to send.
 */
function runtimeStatusChanged(server: NonNullable<ServerStatus>, ours: NodeStatusWire): boolean {
  const have = server as {
    runtimeHandlers?: Partial<NodeRuntimeHandlerWire>[];
    features?: { supplementalGroupsPolicy?: boolean };
  };
  const handlers = have.runtimeHandlers ?? [];
  const handlersChanged =
    ours.runtimeHandlers !== undefined &&
    (handlers.length !== ours.runtimeHandlers.length ||
      ours.runtimeHandlers.some(
        (h, i) =>
          handlers[i]?.name !== h.name ||
          handlers[i]?.features?.recursiveReadOnlyMounts !== h.features.recursiveReadOnlyMounts ||
          handlers[i]?.features?.userNamespaces !== h.features.userNamespaces,
      ));
  return (
    handlersChanged ||
    (ours.features !== undefined &&
      have.features?.supplementalGroupsPolicy !== ours.features.supplementalGroupsPolicy)
  );
}

function conditionsChanged(
  server: NonNullable<ServerStatus>['conditions'],
  ours: NodeStatusWire['conditions'],
): boolean {
  const byType = new Map((server ?? []).map((c) => [c.type, c]));
  return ours.some((c) => {
    const s = byType.get(c.type);
    return (
      !s ||
      s.status !== c.status ||
      (s.reason ?? '') !== (c.reason ?? '') ||
      (s.message ?? '') !== (c.message ?? '') ||
      formatTime(s.lastTransitionTime) !== formatTime(c.lastTransitionTime)
    );
  });
}

function resourcesChanged(
  server: Record<string, string> | undefined,
  ours: Record<string, string | number>,
): boolean {
  const have = server ?? {};
  const keys = Object.keys(ours);
  if (Object.keys(have).length !== keys.length) return true;
  return keys.some((k) => {
    const s = have[k];
    if (s === undefined) return true;
    try {
      return parseQuantity(s, k) !== parseQuantity(ours[k]!, k);
    } catch {
      // A value the kubelet cannot read is not what it sent: overwrite it.
      return true;
    }
  });
}

function addressesChanged(
  server: NonNullable<ServerStatus>['addresses'],
  ours: NodeStatusWire['addresses'],
): boolean {
  const have = server ?? [];
  return (
    have.length !== ours.length ||
    ours.some((a, i) => have[i]?.type !== a.type || have[i]?.address !== a.address)
  );
}

/** The kubelet port as the wire names it (`Port`), whichever way the status was decoded. */
function wirePort(server: NonNullable<ServerStatus>): number | undefined {
  const endpoint = server.daemonEndpoints?.kubeletEndpoint as { Port?: number } | undefined;
  return endpoint?.Port;
}

function nodeInfoChanged(
  server: NonNullable<ServerStatus>['nodeInfo'],
  ours: NodeStatusWire['nodeInfo'],
): boolean {
  const have = (server ?? {}) as unknown as Record<string, unknown>;
  const { swap, ...strings } = ours;
  const haveSwap = (have.swap as { capacity?: number } | undefined)?.capacity;
  return (
    Object.entries(strings).some(([k, v]) => (have[k] ?? '') !== v) ||
    (swap !== undefined && haveSwap !== swap.capacity)
  );
}

function imagesChanged(server: NonNullable<ServerStatus>['images'], ours: NodeStatusWire['images']): boolean {
  const have = server ?? [];
  return (
    have.length !== ours.length ||
    ours.some((img, i) => {
      const s = have[i];
      const names = s?.names ?? [];
      return (
        !s ||
        s.sizeBytes !== img.sizeBytes ||
        names.length !== img.names.length ||
        img.names.some((n, j) => names[j] !== n)
      );
    })
  );
}
