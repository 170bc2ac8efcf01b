import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { InvalidFieldError } from '@nodeagent/kube-proxy';
import type { Wire } from '@nodeagent/primitives';
import { parseAllDocuments } from 'yaml';

export interface ClusterObjects {
  services: Wire<V1Service>[];
  endpointSlices: Wire<V1EndpointSlice>[];
  nodes: Wire<V1Node>[];
}

/**
 * Reads Services, EndpointSlices and Nodes from YAML/JSON text: several documents, and
 * `List` kinds (as `kubectl get -o yaml` prints) are both accepted; other kinds are ignored.
 */
export function readObjects(text: string, source = '(input)'): ClusterObjects {
  const out: ClusterObjects = { services: [], endpointSlices: [], nodes: [] };
  const docs = parseAllDocuments(text);
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0)
      throw new InvalidFieldError(`${source}[${i}]`, doc.errors[0]!.message, 'not valid YAML');
    add(out, doc.toJS() as unknown);
  }
  return out;
}

function add(out: ClusterObjects, obj: unknown): void {
  if (!obj || typeof obj !== 'object') return;
  const o = obj as { kind?: string; items?: unknown[] };
  if (Array.isArray(o.items) && (o.kind === 'List' || o.kind?.endsWith('List'))) {
    const itemKind = o.kind === 'List' ? undefined : o.kind.slice(0, -4);
    for (const item of o.items)
      add(
        out,
        itemKind && !(item as { kind?: string }).kind ? { ...(item as object), kind: itemKind } : item,
      );
    return;
  }
  if (o.kind === 'Service') out.services.push(obj as Wire<V1Service>);
  else if (o.kind === 'EndpointSlice') out.endpointSlices.push(obj as Wire<V1EndpointSlice>);
  else if (o.kind === 'Node') out.nodes.push(obj as Wire<V1Node>);
}
