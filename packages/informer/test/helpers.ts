import type { V1Pod } from '@kubernetes/client-node';
import type { ApiServer } from '@nodeagent/testing';

/** Poll until `check` passes (the reflector is asynchronous); fails after `ms`. */
export async function eventually(check: () => void, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export function podBody(name: string, nodeName: string, labels: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, labels },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox:1' }] },
  };
}

/** `namespace/name` → resourceVersion for everything of a type on the server. */
export function serverState(server: ApiServer, apiVersion: string, plural: string): Map<string, string> {
  const rt = server.resource(apiVersion, plural);
  const out = new Map<string, string>();
  for (const o of server.registry.list(rt, undefined)) {
    const key = o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata.name);
    out.set(key, String(o.metadata.resourceVersion));
  }
  return out;
}
