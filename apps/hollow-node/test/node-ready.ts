import type { ApiServer } from '@nodeagent/testing';

/** Whether Node `name` is stored with its Ready condition True (false while it does not exist). */
export function nodeReady(api: ApiServer, name: string): boolean {
  const node = api.registry.find(api.resource('v1', 'nodes'), undefined, name) as
    | { status?: { conditions?: { type: string; status: string }[] } }
    | undefined;
  return (node?.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
