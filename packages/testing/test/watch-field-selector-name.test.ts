import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

/**
 * The kubelet's ConfigMap and Secret watches (upstream's watch-based manager) ask for one object:
 * fieldSelector metadata.name=<name> in its namespace, the initial state as a watch-list stream.
 * The server sends that object's events only, as kube-apiserver does.
 */

let server: ApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server?.close();
});

type Event = { type: string; name: string };

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A watch-list stream of the ConfigMaps named `name`: its events, and the end of its initial state. */
async function watchNamed(name: string) {
  const events: Event[] = [];
  const request = await new Watch(server.kubeConfig()).watch(
    '/api/v1/namespaces/default/configmaps',
    {
      fieldSelector: `metadata.name=${name}`,
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
    },
    (type, object: { metadata?: { name?: string } }) =>
      events.push({ type, name: object.metadata?.name ?? '' }),
    () => undefined,
  );
  // The initial state ends with a bookmark; what comes after it is a change.
  await until('the initial events’ end', () => events.some((e) => e.type === 'BOOKMARK'));
  return { events: () => events.filter((e) => e.type !== 'BOOKMARK'), stop: () => request.abort() };
}

const create = (name: string) =>
  core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { k: '1' } } });
const update = (name: string) =>
  core.replaceNamespacedConfigMap({
    name,
    namespace: 'default',
    body: { metadata: { name }, data: { k: '2' } },
  });

describe('watch with fieldSelector metadata.name', () => {
  it('streams the named object’s initial state and changes, none of its neighbours’', async () => {
    await create('wanted');
    await create('neighbour');
    const watch = await watchNamed('wanted');
    try {
      await update('neighbour');
      await update('wanted');
      await until('the change', () => watch.events().length === 2);
      expect(watch.events()).toEqual([
        { type: 'ADDED', name: 'wanted' },
        { type: 'MODIFIED', name: 'wanted' },
      ]);
    } finally {
      watch.stop();
    }
  });

  it('sends nothing for a name that does not exist until it is created', async () => {
    const watch = await watchNamed('later');
    try {
      expect(watch.events()).toEqual([]);
      await create('other-later');
      await create('later');
      await until('the creation', () => watch.events().length > 0);
      expect(watch.events()).toEqual([{ type: 'ADDED', name: 'later' }]);
    } finally {
      watch.stop();
    }
  });
});
