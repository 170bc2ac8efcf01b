import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, expect, it } from 'vitest';
import { type HollowCluster, runHollowNodes } from '../src/index';

// A signal during start-up (the binary's SIGTERM) ends it after the wave under way: a thousand
// nodes take minutes to start, and the operator's stop should not wait for all of them.

let api: ApiServer | undefined;
let cluster: HollowCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  await api?.close();
});

it('no wave starts after the signal is aborted; the nodes already up are returned and stop', async () => {
  api = await startApiServer();
  // Aborted from its second reading on: the first wave starts, no other.
  let readings = 0;
  const signal = {
    get aborted() {
      return readings++ >= 1;
    },
  } as AbortSignal;
  cluster = await runHollowNodes({
    kubeConfig: api.kubeConfig(),
    nodes: 6,
    startConcurrency: 2,
    morph: 'proxy',
    signal,
    log: () => {},
  });
  expect(cluster.nodes.map((node) => node.name)).toEqual(['hollow-node-0', 'hollow-node-1']);
  expect((await cluster.report()).nodes).toBe(2);
});
