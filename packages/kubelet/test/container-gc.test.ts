import { describe, expect, it } from 'vitest';
import { evictableRuntimeObjects } from '../src/sync/container-gc';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';

describe('container GC', () => {
  const app = { name: 'app', image: 'busybox' };
  const side = { name: 'side', image: 'busybox' };
  it('keeps running containers and the newest dead instance of each container', () => {
    const pod = makePod({ containers: [app, side] });
    const dead1 = runtimeContainer(app, { state: 'exited', createdAt: 1, sandboxId: 'sb-1' });
    const dead2 = runtimeContainer(app, { state: 'exited', createdAt: 2, sandboxId: 'sb-1' });
    const dead3 = runtimeContainer(app, { state: 'exited', createdAt: 3, sandboxId: 'sb-1' });
    const running = runtimeContainer(app, { state: 'running', createdAt: 4, sandboxId: 'sb-1' });
    const sideDead = runtimeContainer(side, { state: 'exited', createdAt: 5, sandboxId: 'sb-1' });
    const status = runtimeStatus(pod, [readySandbox()], [dead1, dead2, dead3, running, sideDead]);
    expect(evictableRuntimeObjects(status).containers.sort()).toEqual([dead1.id, dead2.id].sort());
    expect(evictableRuntimeObjects(status, 0).containers.sort()).toEqual(
      [dead1.id, dead2.id, dead3.id, sideDead.id].sort(),
    );
  });

  it('removes old dead sandboxes that hold nothing kept, never the newest', () => {
    const pod = makePod({ containers: [app] });
    const old = readySandbox({ id: 'old', ready: false, createdAt: 1 });
    const holding = readySandbox({ id: 'holding', ready: false, createdAt: 2 });
    const newest = readySandbox({ id: 'new', ready: false, createdAt: 3 });
    const kept = runtimeContainer(app, { state: 'exited', createdAt: 10, sandboxId: 'holding' });
    const status = runtimeStatus(pod, [newest, holding, old], [kept]);
    expect(evictableRuntimeObjects(status).sandboxes).toEqual(['old']);
  });
});
