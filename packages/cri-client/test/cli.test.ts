import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli';
import { type CriClient, createCriClient } from '../src/index';
import { FakeRuntime } from '../src/testing/index';

const BUSYBOX = 'localhost/nodeagent/busybox:1.0';

describe('nodeagent-cri CLI', () => {
  let fake: FakeRuntime;
  let cri: CriClient;
  let containerId = '';
  let exitedId = '';
  let podSandboxId = '';

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(['-r', fake.endpoint, ...args], {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
      env: {},
      now: () => Date.now(),
    });
    return { code, out, err };
  }

  beforeAll(async () => {
    fake = await FakeRuntime.start({
      images: [{ ref: BUSYBOX, id: `sha256:${'ab'.repeat(32)}`, size: 2_140_963n }],
    });
    cri = await createCriClient({ endpoint: fake.endpoint });
    const sandboxConfig = { metadata: { name: 'web', uid: 'web-uid', namespace: 'shop' } };
    ({ podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig }));
    const create = async (name: string, command: string[]) =>
      (
        await cri.createContainer({
          podSandboxId,
          sandboxConfig,
          config: { metadata: { name }, image: { image: BUSYBOX }, command, labels: { app: name } },
        })
      ).containerId;
    containerId = await create('server', ['sleep', 'infinity']);
    await cri.startContainer({ containerId });
    exitedId = await create('job', ['sh', '-c', 'exit 0']);
    await cri.startContainer({ containerId: exitedId });
  });

  afterAll(async () => {
    cri.close();
    await fake.stop();
  });

  it('prints the runtime version', async () => {
    const r = await cli('version');
    expect(r.code).toBe(0);
    expect(r.out).toContain('RuntimeName:  fake');
    expect(r.out).toContain('RuntimeApiVersion:  v1');
  });

  it('lists pods as a table and as JSON', async () => {
    const r = await cli('pods');
    expect(r.out.split('\n')[0]).toMatch(/^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT$/);
    expect(r.out).toMatch(new RegExp(`${podSandboxId.slice(0, 13)}.*READY\\s+web\\s+shop\\s+0`));
    const json = JSON.parse((await cli('pods', '-o', 'json')).out);
    expect(json.items[0].id).toBe(podSandboxId);
    expect(typeof json.items[0].createdAt).toBe('string');
  });

  it('lists running containers, or all with -a, and filters by label', async () => {
    const running = await cli('ps', '-q');
    expect(running.out.trim().split('\n')).toEqual([containerId]);
    const all = await cli('ps', '-a');
    expect(all.out).toContain('RUNNING');
    expect(all.out).toContain('EXITED');
    const labelled = await cli('ps', '-a', '-q', '--label', 'app=job');
    expect(labelled.out.trim()).toBe(exitedId);
  });

  it('lists images with repo, tag, short ID and size', async () => {
    const r = await cli('images');
    expect(r.out).toMatch(/localhost\/nodeagent\/busybox\s+1\.0\s+abababababab\S*\s+2\.14MB/);
  });

  it('inspects containers, sandboxes and images, and says when nothing matches', async () => {
    const c = JSON.parse((await cli('inspect', containerId.slice(0, 12))).out);
    expect(c.status.id).toBe(containerId);
    const p = JSON.parse((await cli('inspect', podSandboxId)).out);
    expect(p.status.metadata.name).toBe('web');
    const i = JSON.parse((await cli('inspect', BUSYBOX)).out);
    expect(i.image.repoTags).toEqual([BUSYBOX]);
    const none = await cli('inspect', 'nothing-here');
    expect(none.code).toBe(1);
    expect(none.err).toContain('nothing-here');
  });

  it('execs a command, passing its output and exit code through', async () => {
    const r = await cli('exec', containerId, 'sh', '-c', 'echo hi; echo no >&2; exit 5');
    expect(r).toEqual({ code: 5, out: 'hi\n', err: 'no\n' });
  });

  it('reports an unreachable runtime', async () => {
    let err = '';
    const code = await runCli(['-r', 'unix:///tmp/na-cri-cli-missing.sock', 'version'], {
      stdout: () => undefined,
      stderr: (t) => {
        err += t;
      },
      env: {},
      now: () => 0,
    });
    expect(code).toBe(1);
    expect(err).toContain('runtime unreachable at unix:///tmp/na-cri-cli-missing.sock');
  });
});
