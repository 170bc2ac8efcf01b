import type { KubeObject } from './kube-object';

/** kubectl asks for server-side printing with `Accept: application/json;as=Table;...`. */
export function wantsTable(accept: string): boolean {
  return accept.split(',')[0]?.includes('as=Table') ?? false;
}

function age(created: string | undefined, now: Date): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A meta.k8s.io/v1 Table with NAME and AGE, like the server's default table convertor. */
export function tableFor(items: KubeObject[], metadata: Record<string, unknown>, now: Date) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: [
      {
        name: 'Name',
        type: 'string',
        format: 'name',
        description: 'Name must be unique within a namespace.',
        priority: 0,
      },
      { name: 'Age', type: 'string', format: '', description: 'Time since creation.', priority: 0 },
    ],
    rows: items.map((o) => ({
      cells: [o.metadata.name, age(o.metadata.creationTimestamp, now)],
      object: {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: o.metadata,
      },
    })),
  };
}
