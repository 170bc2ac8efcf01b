import { afterEach, describe, expect, it } from 'vitest';
import { type CriClient, createCriClient } from '../src/index';
import { FakeRuntime } from '../src/testing/index';

const PAUSE = 'registry.k8s.io/pause:3.10';

async function sandbox(client: CriClient, name: string): Promise<string> {
  const { podSandboxId } = await client.runPodSandbox({
    config: { metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 } },
  });
  return podSandboxId;
}

describe('list answers are reused per client', { timeout: 30_000 }, () => {
  let fakes: FakeRuntime[] = [];
  let clients: CriClient[] = [];
  afterEach(async () => {
    for (const c of clients) c.close();
    for (const f of fakes) await f.stop();
    fakes = [];
    clients = [];
  });

  it("one client's unchanged sandboxes come back as the same objects after 100 lists by another client", async () => {
    for (let i = 0; i < 2; i++) {
      const fake = await FakeRuntime.start({ images: [{ ref: PAUSE, id: 'sha256:pause' }] });
      fakes.push(fake);
      clients.push(await createCriClient({ endpoint: fake.endpoint }));
    }
    const [mine, other] = clients as [CriClient, CriClient];
    await sandbox(mine, 'a');
    await sandbox(other, 'b');
    const before = (await mine.listPodSandbox({})).items;
    // Another node's kubelet in the same process lists many times in between (1,000 hollow nodes
    // make ~2,000 list calls a second): its calls must not age this client's cache.
    for (let i = 0; i < 100; i++) await other.listPodSandbox({});
    const after = (await mine.listPodSandbox({})).items;
    expect(after).toHaveLength(1);
    expect(after[0]).toBe(before[0]);
    expect(Object.isFrozen(after[0])).toBe(true);
  });
});
